"""The pinned moto STS/IAM emulator, patched to behave like AWS where MFA is concerned.

Stock moto 5.2 accepts any code and any serial in GetSessionToken, ignores the duration limits,
and returns the same fixed example keys on every call (so GetCallerIdentity answers with a
generic `user/moto`). The tests of an MFA tool need the real behaviour, so this launcher patches
the pinned moto in-process and then runs moto's own server (same arguments as `moto_server`):

- GetSessionToken is signed by an IAM user's access key; anything else is InvalidClientTokenId.
- With SerialNumber/TokenCode: the serial must be one of the caller's enabled MFA devices
  ("unable to validate MFA code" otherwise), the code must be the device's TOTP for the current
  30-second step (or the one before or after, like AWS's clock tolerance), and a code is
  accepted once per device and step ("invalid MFA one time pass code" otherwise).
- DurationSeconds must be 900..129600 (ValidationError otherwise).
- Each call returns new ASIA credentials bound to the user, and GetCallerIdentity resolves them
  to that user.
- AssumeRole with SerialNumber/TokenCode gets the same MFA checks (the caller being the user of a
  long-term key or of a session issued above); the role itself is stock moto.
- A role created in IAM whose trust policy demands `aws:MultiFactorAuthPresent` (Bool or
  BoolIfExists "true") is assumed only with MFA, as AWS assumes it: with a valid
  SerialNumber/TokenCode, or signed by a session that carries MFA context (a GetSessionToken
  session obtained with a code); AccessDenied "not authorized to perform: sts:AssumeRole"
  otherwise. A role session never carries MFA context onward (AWS: the MFA flag does not pass
  to the next hop), so only the first AssumeRole of a chain can be MFA-protected. Roles
  that do not exist in IAM (most tests use a made-up ARN) are stock moto: no trust check.
- Role chaining: AssumeRole signed by a role session is refused above 3600 s with AWS's
  ValidationError ("exceeds the 1 hour session limit for roles assumed by role chaining"), and
  the new role session is bound to the same user for call counting.
- ListMFADevices without UserName lists the caller's devices, as AWS does (stock moto fails).
- EnableMFADevice takes a security key or passkey serial (`arn:aws:iam::ACCOUNT:u2f/user/NAME/ID`,
  which AWS assigns when one is registered in the console through WebAuthn) for the user it
  names in that account, with no codes checked, and ListMFADevices lists it next to the virtual
  devices, as AWS does; a u2f serial naming another user or account is refused (InvalidInput).
  GetSessionToken and AssumeRole refuse a u2f serial as AWS does (it gives no TOTP code).
- An STS request signed more than 5 minutes away from the server's clock (X-Amz-Date) is refused
  with SignatureDoesNotMatch "Signature expired", as AWS refuses it; stock moto ignores the
  time. The tests shift the client's clock with faketime to see it.
- An inactive or deleted long-term key is rejected by GetSessionToken, AssumeRole and
  GetCallerIdentity (InvalidClientTokenId), as AWS rejects it; stock moto accepts it.
- With MFA_SESSION_EMULATOR_ROLE_SECONDS=N, AssumeRole issues sessions that last N seconds
  whatever was asked, so the credential-server tests see a renewal within seconds.
- With MFA_SESSION_EMULATOR_CALLS set to a file path, every GetSessionToken, AssumeRole and
  ListMFADevices call appends a line "USER ACTION" to that file, so tests can count exactly
  how many calls a run of mfa-session made (the single-flight tests need this).

Product code never knows about any of this: it talks to this server as it would to AWS.
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import struct
import sys
import threading
import time
import urllib.parse

from moto.core.responses import ActionResult, EmptyResult
from moto.iam.exceptions import EntityAlreadyExists as IamEntityAlreadyExists
from moto.iam.exceptions import InvalidInput as IamInvalidInput
from moto.iam.models import iam_backends
from moto.iam import responses as iam_responses
from moto.server import main as moto_main
from moto.sts import models as sts_models
from moto.sts import responses as sts_responses
from moto.sts.exceptions import STSClientError, STSValidationError
from moto.sts.utils import random_session_token

MIN_DURATION, MAX_DURATION = 900, 129_600


class AccessDenied(STSClientError):
    code = "AccessDenied"


class InvalidClientTokenId(STSClientError):
    code = "InvalidClientTokenId"


class SignatureDoesNotMatch(STSClientError):
    code = "SignatureDoesNotMatch"


SKEW_LIMIT = datetime.timedelta(minutes=5)


def _signed_in_time(action):
    """Refuses a request whose signature time is more than 5 minutes off, with AWS's words."""

    def checked(self, *args, **kwargs):
        stamp = self.headers.get("X-Amz-Date") or self.headers.get("x-amz-date")
        if stamp:
            signed = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc
            )
            now = datetime.datetime.now(datetime.timezone.utc)
            fmt = "%Y%m%dT%H%M%SZ"
            if signed < now - SKEW_LIMIT:
                raise SignatureDoesNotMatch(
                    f"Signature expired: {signed.strftime(fmt)} is now earlier than "
                    f"{(now - SKEW_LIMIT).strftime(fmt)} ({now.strftime(fmt)} - 5 min.)"
                )
            if signed > now + SKEW_LIMIT:
                raise SignatureDoesNotMatch(
                    f"Signature not yet current: {signed.strftime(fmt)} is still later than "
                    f"{(now + SKEW_LIMIT).strftime(fmt)} ({now.strftime(fmt)} + 5 min.)"
                )
        return action(self, *args, **kwargs)

    return checked


def totp(seed: str, step: int) -> str:
    key = base64.b32decode(seed.upper() + "=" * (-len(seed) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 15
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return "%06d" % (value % 1_000_000)


_lock = threading.Lock()
_used_codes: set = set()  # (serial, step)
_session_users: dict = {}  # session access key id -> (account, partition, user name)
_role_sessions: dict = {}  # role session access key id -> (account, partition, user name)
_mfa_keys: set = set()  # session access key ids that carry MFA context


def _active_user(iam, key_id):
    """The user of a long-term key, or None when the key is unknown; InvalidClientTokenId when
    it is inactive."""
    user = iam.get_user_from_access_key_id(key_id)
    if user is not None:
        for key in iam.list_access_keys(user.name):
            if key.access_key_id == key_id and key.status != "Active":
                raise InvalidClientTokenId("The security token included in the request is invalid.")
    return user


def _caller(self):
    """The IAM user signing this request: by long-term key, or by a session issued here."""
    backend = self.backend
    iam = iam_backends[backend.account_id][backend.partition]
    key_id = self.get_access_key()
    user = _active_user(iam, key_id)
    if user is None:
        with _lock:
            owner = _session_users.get(key_id) or _role_sessions.get(key_id)
        if owner:
            user = iam_backends[owner[0]][owner[1]].get_user(owner[2])
    return iam, user


_CALLS = os.environ.get("MFA_SESSION_EMULATOR_CALLS")


def _count(user, action):
    """Appends "USER ACTION" to the call log, when the tests asked for one."""
    if _CALLS:
        with _lock, open(_CALLS, "a") as log:
            log.write(f"{user.name if user else '-'} {action}\n")


def _check_mfa(self, iam, user):
    """AWS's checks of SerialNumber and TokenCode, when either is given. Returns whether an MFA
    code was given (and accepted)."""
    serial = self._get_param("SerialNumber")
    code = self._get_param("TokenCode")
    if not (serial or code):
        return False
    device = iam.virtual_mfa_devices.get(serial)
    if user is None or serial not in user.mfa_devices or device is None:
        raise AccessDenied(
            "MultiFactorAuthentication failed, unable to validate MFA code. Please verify "
            "your MFA serial number is valid and associated with this user."
        )
    now = int(time.time()) // 30
    with _lock:
        step = next(
            (s for s in (now, now - 1, now + 1) if totp(device.base32_string_seed, s) == code),
            None,
        )
        if step is None or (serial, step) in _used_codes:
            raise AccessDenied("MultiFactorAuthentication failed with invalid MFA one time pass code. ")
        _used_codes.add((serial, step))
    return True


def get_session_token(self):
    duration = self._get_int_param("DurationSeconds", 43200)
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise STSValidationError(
            f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to "
            f"satisfy constraint: Member must have value between {MIN_DURATION} and {MAX_DURATION}"
        )
    backend = self.backend
    iam = iam_backends[backend.account_id][backend.partition]
    user = _active_user(iam, self.get_access_key())
    _count(user, "GetSessionToken")
    if user is None:
        raise InvalidClientTokenId("The security token included in the request is invalid.")
    with_mfa = _check_mfa(self, iam, user)
    key = iam.create_temp_access_key()
    with _lock:
        _session_users[key.access_key_id] = (backend.account_id, backend.partition, user.name)
        if with_mfa:
            _mfa_keys.add(key.access_key_id)
    expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=duration)
    return ActionResult(
        {
            "Credentials": {
                "AccessKeyId": key.access_key_id,
                "SecretAccessKey": key.secret_access_key,
                "SessionToken": random_session_token(),
                "Expiration": expiration,
            }
        }
    )


_stock_caller_identity = sts_models.STSBackend.get_caller_identity


def get_caller_identity(self, access_key_id, region):
    with _lock:
        owner = _session_users.get(access_key_id)
    if owner:
        account, partition, name = owner
        user = iam_backends[account][partition].get_user(name)
        return user.id, user.arn, user.account_id
    if access_key_id.startswith("AKIA"):
        iam = iam_backends[self.account_id][getattr(self, "partition", "aws")]
        user = _active_user(iam, access_key_id)
        if user is None:
            raise InvalidClientTokenId("The security token included in the request is invalid.")
        return user.id, user.arn, user.account_id
    return _stock_caller_identity(self, access_key_id, region)


_stock_assume_role = sts_responses.TokenResponse.assume_role


_ROLE_SECONDS = os.environ.get("MFA_SESSION_EMULATOR_ROLE_SECONDS")


def _demands_mfa(iam, role_arn):
    """Whether the IAM role `role_arn` exists and its trust policy allows only with MFA."""
    try:
        role = iam.get_role_by_arn(role_arn)
    except Exception:
        return False
    doc = role.assume_role_policy_document
    if isinstance(doc, str):
        try:
            doc = json.loads(urllib.parse.unquote(doc))
        except ValueError:
            return False
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for st in statements:
        if st.get("Effect") != "Allow":
            continue
        for op in ("Bool", "BoolIfExists"):
            value = st.get("Condition", {}).get(op, {}).get("aws:MultiFactorAuthPresent")
            if str(value).lower() in ("true", "['true']"):
                return True
    return False


def assume_role(self):
    iam, user = _caller(self)
    _count(user, "AssumeRole")
    key_id = self.get_access_key()
    with _lock:
        chained = key_id in _role_sessions
        carried = key_id in _mfa_keys
    with_mfa = _check_mfa(self, iam, user) or carried
    role_arn = self._get_param("RoleArn")
    if not with_mfa and _demands_mfa(iam, role_arn):
        who = user.arn if user is not None else key_id
        raise AccessDenied(
            f"User: {who} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
        )
    if chained and self._get_int_param("DurationSeconds", 3600) > 3600:
        raise STSValidationError(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed "
            "by role chaining."
        )
    if _ROLE_SECONDS:
        stock_int = self._get_int_param
        self._get_int_param = lambda name, if_none=None: (
            int(_ROLE_SECONDS) if name == "DurationSeconds" else stock_int(name, if_none)
        )
    result = _stock_assume_role(self)
    new_key = result.result["Credentials"].access_key_id
    with _lock:
        if user is not None:
            _role_sessions[new_key] = (self.backend.account_id, self.backend.partition, user.name)
    return result


_stock_list_mfa_devices = iam_responses.IamResponse.list_mfa_devices


def list_mfa_devices(self):
    iam = self.backend
    user = iam.get_user_from_access_key_id(self.get_access_key())
    _count(user, "ListMFADevices")
    if not self._get_param("UserName") and user is not None:
        stock_get = self._get_param
        self._get_param = lambda name, if_none=None: (
            user.name if name == "UserName" else stock_get(name, if_none)
        )
    return _stock_list_mfa_devices(self)


_stock_enable_mfa_device = iam_responses.IamResponse.enable_mfa_device


def enable_mfa_device(self):
    """AWS registers a security key or passkey for a user with a serial of its own making,
    `arn:PARTITION:iam::ACCOUNT:u2f/user/NAME/ID`; the tests enable one through this call."""
    serial = self._get_param("SerialNumber") or ""
    parts = serial.split(":", 5)
    if len(parts) == 6 and parts[5].startswith("u2f/"):
        user_name = self._get_param("UserName")
        resource = parts[5].split("/")
        if (
            parts[0] != "arn"
            or parts[2] != "iam"
            or parts[4] != self.backend.account_id
            or len(resource) < 4
            or resource[1] != "user"
            or resource[2] != user_name
            or not resource[3]
        ):
            raise IamInvalidInput(
                f"Invalid serial number {serial} for user {user_name}: a security key's serial "
                f"is arn:aws:iam::{self.backend.account_id}:u2f/user/{user_name}/ID"
            )
        user = self.backend.get_user(user_name)
        if serial in user.mfa_devices:
            raise IamEntityAlreadyExists(f"Device {serial} already exists")
        user.enable_mfa_device(serial, None, None)
        return EmptyResult()
    return _stock_enable_mfa_device(self)


sts_responses.TokenResponse.get_session_token = _signed_in_time(get_session_token)
sts_responses.TokenResponse.assume_role = _signed_in_time(assume_role)
sts_responses.TokenResponse.get_caller_identity = _signed_in_time(
    sts_responses.TokenResponse.get_caller_identity
)
sts_models.STSBackend.get_caller_identity = get_caller_identity
iam_responses.IamResponse.list_mfa_devices = list_mfa_devices
iam_responses.IamResponse.enable_mfa_device = enable_mfa_device

if __name__ == "__main__":
    sys.exit(moto_main(sys.argv[1:]))
