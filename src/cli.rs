//! Command-line definitions, and nothing else: what each command and flag means is documented
//! here because this text is the `--help`, the man page and the shell completions.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

fn duration(s: &str) -> Result<Duration, String> {
    crate::session::parse_duration(s)
}

/// A per-attempt timeout: at least a second (`0` would still send the request and give up on it
/// at once).
fn timeout(s: &str) -> Result<Duration, String> {
    let d = duration(s)?;
    if d < Duration::from_secs(1) {
        return Err(format!("{s} is too short: a timeout is at least 1s"));
    }
    Ok(d)
}

#[derive(Debug, Parser)]
#[command(
    name = "mfa-session",
    version,
    about = "MFA-backed AWS STS sessions in ~/.aws/credentials",
    long_about = "MFA-backed AWS STS sessions in ~/.aws/credentials.\n\n\
        When an IAM policy denies everything unless MFA is present, plain access keys stop \
        working for the AWS CLI, SDKs and batch jobs. mfa-session keeps your long-term keys in \
        [PROFILE-long-term], trades them plus a one-time code for temporary STS session \
        credentials, and writes those into [PROFILE] with their expiration, without touching \
        any other line of your files.\n\n\
        Files: AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials) and AWS_CONFIG_FILE \
        (default ~/.aws/config). Profile: --profile, else AWS_PROFILE, else \"default\".",
    after_help = "Exit codes: 0 success, 1 failure, 2 usage error (console: not a role \
        profile), 3 a file could not be read, \
        parsed or written (it was left unchanged), 4 refused: overwriting long-term keys, or a \
        value that cannot be stored or printed safely, 5 the MFA code or device was rejected, \
        there is no device, or mfa_process or ykman failed, \
        6 AWS rejected the long-term key, the signature or the clock, or denied the call, \
        7 AWS unreachable or unavailable (connection, timeout, throttling, 5xx), 8 a code or a \
        choice is needed and there is no terminal or dialog to ask on, or the MFA prompt was \
        cancelled or not answered in time, 9 the profile is not set up (no long-term \
        keys, an unusable code source or prompt such as an unsafe TOTP file or a missing \
        zenity or ykman, an OS keyring that is absent, locked or not answering, or no \
        program to open a URL with), 10 no valid session and no way to log in here (status: not every session is \
        valid), 11 another mfa-session run held a lock too long, 126 or 127 exec could not run the \
        command.\n\nSee `mfa-session man` for the full manual."
)]
pub struct Cli {
    /// More diagnostics on stderr: -v info, -vv debug, -vvv trace. Secrets are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Suffix of the section holding a profile's long-term keys: [PROFILE-long-term] by
    /// default, as the Python aws-mfa does.
    #[arg(
        long,
        global = true,
        value_name = "SUFFIX",
        default_value = "-long-term"
    )]
    pub long_term_suffix: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Get an MFA session for a profile and write it to the credentials file.
    ///
    /// Signs GetSessionToken with the long-term keys of [PROFILE-long-term] (never with
    /// AWS_ACCESS_KEY_ID or a session in the environment), asks for the code of your MFA device
    /// on the terminal, else in a dialog (see --prompt), or takes --code, and writes
    /// aws_access_key_id, aws_secret_access_key, aws_session_token and expiration to [PROFILE].
    /// Nothing else in the file changes.
    ///
    /// The MFA device is --serial, else mfa_serial in [profile PROFILE] of the config file, else
    /// mfa_serial or aws_mfa_device in [PROFILE-long-term], else found with ListMFADevices and
    /// remembered as mfa_serial in [PROFILE-long-term], so later logins make exactly one call.
    ///
    /// While the session in [PROFILE] has more than --refresh-window left, login says so and
    /// makes no call at all.
    ///
    /// Many processes at once (login, export, credential-process, exec, refresh) that need a new
    /// session for the same profile, the same long-term key or the same role share one login:
    /// one asks for the code and calls STS, the others say they wait (at most 120 s) and use
    /// the session it wrote. A short session (duration_seconds = 900) is kept until a third of
    /// its life is left, even under a longer --refresh-window.
    ///
    /// Role profiles ([profile NAME] with role_arn and source_profile in the config file): if the
    /// source profile has a valid MFA session, the role is assumed with it (no code; AWS caps
    /// such sessions at 1 hour); otherwise with the source's long-term keys and an MFA code (up
    /// to the role's MaxSessionDuration). The role session is cached by mfa-session (0600, in
    /// ~/.cache/mfa-session/roles), never written to a [NAME] section the AWS CLI would confuse
    /// with the role profile (see --write-profile). A source profile that is itself a role
    /// profile (a role chain) is followed: the code goes to the first hop only, each later hop is
    /// assumed with the previous hop's session (1 hour at most), and each hop is cached. Role
    /// sessions do not carry MFA onward: where an SCP demands MFA, use the GetSessionToken
    /// session of the source profile.
    ///
    /// Examples:
    ///   mfa-session login --profile work
    ///   mfa-session login --profile work --code 123456 --duration 36h
    ///   mfa-session login --force
    #[command(verbatim_doc_comment)]
    Login(LoginArgs),

    /// Print the session as shell exports (logging in first when needed and possible).
    ///
    /// Prints AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
    /// AWS_CREDENTIAL_EXPIRATION (and AWS_REGION when the profile has one) and unsets
    /// AWS_PROFILE. If the session is missing or inside the refresh window, logs in first when
    /// a code source exists: mfa_process or mfa_totp_secret_file, else a terminal to ask on (the
    /// prompt goes to the terminal, never to stdout), else a dialog in a graphical session
    /// (zenity, kdialog; osascript on macOS; see --prompt); otherwise prints nothing and exits
    /// 10. A
    /// valid session costs no AWS call. Role profiles work too (see `login --help`).
    ///
    /// Examples:
    ///   eval "$(mfa-session export --profile work)"                 # bash, zsh, dash
    ///   mfa-session export --profile work --format fish | source     # fish
    ///   mfa-session export --profile work --format powershell | Invoke-Expression
    ///   mfa-session export --profile work --format dotenv > .env
    #[command(verbatim_doc_comment)]
    Export {
        /// Profile whose session to print. Default: AWS_PROFILE, else "default".
        #[arg(short, long, value_name = "PROFILE")]
        profile: Option<String>,
        /// Output format.
        #[arg(short, long, value_enum, default_value = "sh")]
        format: crate::shell::Format,
        #[command(flatten)]
        session: SessionOpts,
    },
    /// Print the credential_process JSON for a profile (for ~/.aws/config).
    ///
    /// In ~/.aws/config, under a profile of ANOTHER name than the session profile:
    ///
    ///   [profile work-mfa]
    ///   credential_process = mfa-session credential-process --profile work
    ///
    /// The AWS CLI and SDKs then run it whenever they need credentials for work-mfa, and again
    /// when the printed Expiration approaches. Same login rules as export: run by an IDE with no
    /// terminal, it asks for the code in a dialog (cancel: exit 8), or reads it off a YubiKey
    /// with --prompt ykman / mfa_prompt = ykman. See docs/gui.md.
    #[command(verbatim_doc_comment)]
    CredentialProcess {
        /// Profile whose session to print (required: it is written into a config file).
        #[arg(short, long, value_name = "PROFILE", required = true)]
        profile: String,
        #[command(flatten)]
        session: SessionOpts,
    },
    /// Run a command (or your shell) with the session in its environment.
    ///
    /// The command replaces mfa-session (exec), so its exit code and the signals sent to it
    /// are its own. AWS_PROFILE and AWS_DEFAULT_PROFILE are removed from its environment so the
    /// session keys are what it uses, and MFA_SESSION_PROFILE names the profile (for prompts
    /// and scripts). Without a command, starts $SHELL (else /bin/sh). Inside such a shell, exec
    /// warns that it replaces the session it was started with. Same login rules as export.
    ///
    /// With --server, the command gets no keys at all: mfa-session stays alongside it and serves
    /// the session on a 127.0.0.1 endpoint of the container-credentials protocol
    /// (AWS_CONTAINER_CREDENTIALS_FULL_URI, with a random AWS_CONTAINER_AUTHORIZATION_TOKEN),
    /// which every AWS SDK and the CLI use by themselves. Each request gets a session renewed
    /// when due (roles are assumed again from the source's MFA session, MFA sessions from a
    /// configured code source), so jobs longer than one session keep working. The command's exit
    /// status and signals are passed through. Its SDKs end at the endpoint whatever your files
    /// hold: AWS_PROFILE names mfa-session-served, a profile without credentials in a private
    /// copy of your config (AWS_CONFIG_FILE); your other profiles stay usable by name
    /// (aws --profile other). The terminal is the command's: a renewal never prompts on it.
    ///
    /// Examples:
    ///   mfa-session exec --profile work -- terraform plan
    ///   mfa-session exec --profile admin --server -- terraform apply   # longer than 1 h
    ///   mfa-session exec --profile work            # a shell with the session
    #[command(verbatim_doc_comment)]
    Exec {
        /// Profile whose session to use. Default: AWS_PROFILE, else "default".
        #[arg(short, long, value_name = "PROFILE")]
        profile: Option<String>,
        #[command(flatten)]
        session: SessionOpts,
        /// Serve renewing credentials on 127.0.0.1 instead of putting keys in the environment.
        #[arg(long)]
        server: bool,
        /// The command and its arguments (after --); none: $SHELL.
        #[arg(last = true, value_name = "COMMAND")]
        command: Vec<std::ffi::OsString>,
    },
    /// Open the AWS console as a role profile's session (or print its sign-in URL).
    ///
    /// Gets the role session as export does (the cached one while valid, else assumed again,
    /// asking for a code when one is needed, with the same --prompt and --no-login rules),
    /// trades it at AWS's federation endpoint for a sign-in token (getSigninToken), and opens
    /// the sign-in URL (Action=login, Issuer=mfa-session, your --destination) in your browser
    /// with xdg-open (Linux, BSD), open (macOS) or cmd /C start (Windows); with --print it
    /// prints the URL on stdout instead, and nothing else.
    ///
    /// The sign-in host is the partition's, from the region (AWS_REGION, AWS_DEFAULT_REGION,
    /// the role's region, its source profile's, else us-east-1): signin.aws.amazon.com,
    /// signin.amazonaws.cn for cn-* regions, signin.amazonaws-us-gov.com for us-gov-*.
    /// AWS_ENDPOINT_URL_SIGNIN replaces it (its path gets /federation appended);
    /// AWS_ENDPOINT_URL does not apply.
    ///
    /// Only role profiles work: the federation endpoint refuses GetSessionToken sessions, so
    /// for such a profile console stops with exit 2 before any request. Sign in as the IAM user
    /// with a password, or with the AWS CLI's `aws login`, or define a role profile (docs/roles.md).
    ///
    /// The URL signs anyone who has it in as the role until its token expires (AWS: 15 minutes
    /// after it is issued): it is never logged, and opening it passes it to the opener's argument
    /// list, where other local users' process listings can see it for a moment (docs/security.md).
    ///
    /// Examples:
    ///   mfa-session console --profile admin
    ///   mfa-session console --profile admin --destination https://console.aws.amazon.com/s3/
    ///   mfa-session console --profile admin --print | xclip -selection clipboard
    ///   mfa-session console --profile admin --duration 4h
    #[command(verbatim_doc_comment)]
    Console(ConsoleArgs),
    /// Show every managed profile: state, expiry, time left, MFA device.
    ///
    /// Managed profiles are those with a [PROFILE-long-term] section or a session with an
    /// expiration in the credentials file. States: valid, expiring (inside the refresh
    /// window), expired, missing. Exits 0 only if every profile shown is valid, so
    /// `mfa-session status --profile work || alert` works in monitoring. Never calls AWS.
    #[command(verbatim_doc_comment)]
    Status {
        /// Show only this profile.
        #[arg(short, long, value_name = "PROFILE")]
        profile: Option<String>,
        /// JSON for scripts instead of a table.
        #[arg(long, conflicts_with = "prompt")]
        json: bool,
        /// One short line for a shell prompt ("work 3h12m", "work expired") about --profile,
        /// else the profile of an `mfa-session exec` shell (MFA_SESSION_PROFILE), else
        /// AWS_PROFILE, else "default". Reads the files only; see docs/prompt.md.
        #[arg(long)]
        prompt: bool,
        /// A session with less than this left is "expiring".
        #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = duration)]
        refresh_window: Duration,
    },
    /// Explain why a profile does not work: every check, ok / warn / fail, with the fix.
    ///
    /// Checks, in the order a login meets them: which profile is used and why (--profile,
    /// AWS_PROFILE, default); variables that make the AWS CLI ignore profiles
    /// (AWS_ACCESS_KEY_ID, AWS_SESSION_TOKEN, a different AWS_PROFILE, ...); which credentials
    /// and config files are read and why, their mode and owner, and whether they parse; where
    /// the long-term keys are (file or OS keyring) and whether AWS accepts them
    /// (GetCallerIdentity, which works even under an MFA-enforcing policy); this machine's clock
    /// against the time in AWS's answer (AWS refuses requests more than 5 minutes off); the MFA
    /// device (configured, or found with ListMFADevices); the stored session; whether the code
    /// source can run (mfa_process found, TOTP seed readable), without spending a code; and
    /// credential_process lines in the config file that hand the profile out.
    ///
    /// Writes nothing and never asks for a code. For a role profile the keys, device and code
    /// source checked are those of its source_profile.
    ///
    /// Exit status: 0 when a login would work (warnings allowed), 1 when a check failed.
    ///
    /// Examples:
    ///   mfa-session doctor --profile work
    ///   mfa-session doctor --json | jq '.checks[] | select(.status != "ok")'
    #[command(verbatim_doc_comment)]
    Doctor {
        /// Profile to check. Default: AWS_PROFILE, else "default".
        #[arg(short, long, value_name = "PROFILE")]
        profile: Option<String>,
        /// JSON for scripts and support tickets: {"profile", "login_would_work", "checks":
        /// [{"check", "status", "detail", "fix"}]}. No secret is ever part of it.
        #[arg(long)]
        json: bool,
        /// Give up on each AWS call after this long.
        #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = timeout)]
        timeout: Duration,
        /// A session with less than this left is reported as due for renewal.
        #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = duration)]
        refresh_window: Duration,
    },
    /// Renew sessions unattended, for cron and systemd timers. Never prompts.
    ///
    /// Renews each requested profile whose session expires within --threshold, using its
    /// non-interactive code source: mfa_process (a command printing the code, e.g.
    /// "ykman oath accounts code -s aws") or mfa_totp_secret_file (a file with the base32
    /// seed, mode 600), from [profile PROFILE] of the config file or [PROFILE-long-term].
    /// A profile without one is reported as failed and the others go on. Profiles sharing an
    /// MFA device get one session. Prints one timestamped line per profile on stderr (-q:
    /// failures only); exits 0 only if every profile ends with a session valid beyond the
    /// threshold. Overlapping runs take turns and lose no update.
    ///
    /// Examples:
    ///   mfa-session refresh --all
    ///   mfa-session refresh --profile work --profile ops --threshold 2h
    ///   */15 * * * * mfa-session -q refresh --all      (crontab; see docs/unattended.md)
    #[command(verbatim_doc_comment)]
    Refresh(RefreshArgs),
    /// Move static keys from [PROFILE] to [PROFILE-long-term] and find the MFA device.
    ///
    /// For a profile whose access key sits in [PROFILE] today: moves aws_access_key_id and
    /// aws_secret_access_key to [PROFILE-long-term] (every other line stays where it is), finds
    /// the MFA device with ListMFADevices and stores it as mfa_serial, optionally records a
    /// code source for unattended renewal, and prints the next command. Safe to run again.
    /// Refuses when [PROFILE] holds a session and there are no long-term keys, or when both
    /// sections hold different keys. Without a terminal it asks nothing.
    ///
    /// --store keyring moves the secret access key (and the TOTP seed of --totp-secret-file or
    /// mfa_totp_secret_file) into the OS keyring (Secret Service: GNOME Keyring, KWallet):
    /// stored, read back and compared before the line is taken out of the file, where
    /// "mfa_store = keyring" (and "mfa_totp_secret_keyring = PATH") take its place and the seed
    /// file is deleted. --store file moves them back, restoring the file byte for byte.
    /// mfa-session never asks to unlock a locked keyring: it says so and stops.
    /// See docs/security.md for what each store protects against.
    ///
    /// Examples:
    ///   mfa-session setup --profile work --mfa-process "ykman oath accounts code -s aws"
    ///   mfa-session setup --profile work --store keyring --totp-secret-file ~/work.totp
    ///   mfa-session setup --profile work --store file
    #[command(verbatim_doc_comment)]
    Setup(SetupArgs),
    /// Replace a profile's long-term access key with a new one, using its MFA session.
    ///
    /// Logs in first if needed (IAM refuses key calls without MFA under an MFA-enforcing
    /// policy), then: CreateAccessKey; store the new key where the old one was (file or
    /// keyring); prove it works with GetCallerIdentity; DeleteAccessKey the old one (or, with
    /// --keep-old, deactivate it). Killed or failing at any step, a stored key that works is
    /// left, and the message says which keys exist at AWS and what to do. A user who already
    /// has two keys (the most AWS allows) is refused with the list, unless --delete names the
    /// other one. The creation time of the new key is recorded as mfa_key_created, and
    /// `status` shows the key's age.
    ///
    /// Examples:
    ///   mfa-session rotate --profile work
    ///   mfa-session rotate --profile work --keep-old
    ///   mfa-session rotate --profile work --delete AKIAOLDUNUSEDKEY0000
    #[command(verbatim_doc_comment)]
    Rotate(RotateArgs),
    /// Print the IAM policy that makes MFA mandatory (JSON for IAM).
    ///
    /// Users may manage only their own MFA device and password; everything else is denied
    /// unless MFA is present, with BoolIfExists so that long-term access keys are denied too
    /// (--explain says why that matters). sts:GetSessionToken stays allowed: that is how
    /// mfa-session turns keys plus a code into a session.
    ///
    /// Examples:
    ///   mfa-session policy > force-mfa.json
    ///   aws iam create-policy --policy-name ForceMFA --policy-document file://force-mfa.json
    ///   mfa-session policy --allow-ip 203.0.113.0/24 --allow-ip 2001:db8::/32
    #[command(verbatim_doc_comment)]
    Policy {
        /// Also deny requests from other source addresses (CIDR or single address; repeatable).
        /// Calls AWS services make on the user's behalf are exempt.
        #[arg(long, value_name = "CIDR")]
        allow_ip: Vec<String>,
        /// Explain the policy (on stderr), including how BoolIfExists differs from Bool.
        #[arg(long)]
        explain: bool,
    },
    /// Print a shell completion script.
    ///
    /// bash: `mfa-session completions bash > ~/.local/share/bash-completion/completions/mfa-session`
    /// zsh: `mfa-session completions zsh > "${fpath[1]}/_mfa-session"`
    /// fish: `mfa-session completions fish > ~/.config/fish/completions/mfa-session.fish`
    #[command(verbatim_doc_comment)]
    Completions {
        /// The shell to generate for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The CredUI dialog the `credui` prompt driver runs (Windows; internal).
    ///
    /// Shows Windows' credentials dialog with TEXT and prints what was typed into its hidden
    /// field on stdout; exits 1 on Cancel. The `credui` driver runs it as a child so that it is
    /// bounded and killed whole like every other dialog. Not for direct use.
    #[command(name = "credui-dialog", hide = true)]
    CreduiDialog {
        /// The dialog's message.
        #[arg(long, value_name = "TEXT")]
        text: String,
        /// Ask for the number of one of these instead (repeatable); the device is printed.
        #[arg(long, value_name = "DEVICE")]
        choose: Vec<String>,
    },
    /// Print the man page (roff) to stdout.
    ///
    /// Install it with `mfa-session man > ~/.local/share/man/man1/mfa-session.1`.
    Man,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Profile to log in: the session goes to [PROFILE], the keys come from
    /// [PROFILE-long-term]. Default: AWS_PROFILE, else "default".
    #[arg(short, long, value_name = "PROFILE")]
    pub profile: Option<String>,

    /// The current 6-digit code of your MFA device (without it you are asked: see --prompt).
    #[arg(short, long, value_name = "CODE")]
    pub code: Option<String>,

    /// ARN of the MFA device, e.g. arn:aws:iam::123456789012:mfa/alice.
    #[arg(short, long, value_name = "ARN")]
    pub serial: Option<String>,

    /// Session length: 3600, 90m, 12h, 1d12h; 15m to 36h (root users: at most 1h).
    /// Default: duration_seconds of [profile PROFILE] in the config file, else 12h.
    #[arg(short, long, value_name = "DURATION")]
    pub duration: Option<String>,

    /// Renew even if the current session is still valid.
    #[arg(short, long)]
    pub force: bool,

    /// Region for the STS endpoint. Default: AWS_REGION, AWS_DEFAULT_REGION, the profile's
    /// region in the config file, else us-east-1.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Keep a session that has more than this left instead of renewing it.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = duration)]
    pub refresh_window: Duration,

    /// Give up on an AWS call attempt after this long, at least 1s (a call is tried 3 times,
    /// except one carrying an MFA code: AWS takes a code once).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = timeout)]
    pub timeout: Duration,

    /// A command that prints the current MFA code (overrides mfa_process and
    /// mfa_totp_secret_file in the files), e.g. "ykman oath accounts code -s aws".
    #[arg(long, value_name = "COMMAND")]
    pub mfa_process: Option<String>,

    /// For a role profile: also write its session to [NAME] of the credentials file (with
    /// expiration), for tools that read only that file. [NAME] must be absent, empty or an earlier
    /// copy of the same role: any other profile is refused (exit 4).
    #[arg(long, value_name = "NAME")]
    pub write_profile: Option<String>,

    /// Who asks for the MFA code when none is given and no mfa_process or TOTP seed is
    /// configured. Default: MFA_SESSION_PROMPT, else mfa_prompt in the profile, else auto.
    /// See docs/gui.md.
    #[arg(long, value_enum, value_name = "PROMPT")]
    pub prompt: Option<crate::mfa::prompt::PromptKind>,
}

#[derive(Debug, Args)]
pub struct ConsoleArgs {
    /// The role profile to sign in as. Default: AWS_PROFILE, else "default".
    #[arg(short, long, value_name = "PROFILE")]
    pub profile: Option<String>,

    /// The console page to land on (an https:// URL). Default: the partition's console home,
    /// https://console.aws.amazon.com/ (console.amazonaws.cn, console.amazonaws-us-gov.com).
    #[arg(long, value_name = "URL")]
    pub destination: Option<String>,

    /// Print the sign-in URL on stdout instead of opening it. It signs anyone in as the role:
    /// do not paste it where others can read it.
    #[arg(long)]
    pub print: bool,

    /// How long the console session lasts (AWS's SessionDuration): 15m to 12h. Default:
    /// AWS's choice. AWS refuses it for a role session assumed from another session (role
    /// chaining); see docs/roles.md.
    #[arg(short, long, value_name = "DURATION", value_parser = console_duration)]
    pub duration: Option<Duration>,

    /// Give up on the federation endpoint after this long, at least 1s.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = timeout)]
    pub timeout: Duration,

    #[command(flatten)]
    pub session: SessionOpts,
}

/// A console session's length: AWS takes 15 minutes to 12 hours.
fn console_duration(s: &str) -> Result<Duration, String> {
    let d = duration(s)?;
    let (min, max) = crate::aws::signin::SESSION_DURATION_BOUNDS;
    if d < Duration::from_secs(min) || d > Duration::from_secs(max) {
        return Err(format!(
            "{s} is out of bounds: a console session lasts 15m to 12h"
        ));
    }
    Ok(d)
}

/// Options of the commands that hand out a session.
#[derive(Debug, Args)]
pub struct SessionOpts {
    /// Never log in (and so never touch the network): fail if the session is not valid.
    #[arg(long)]
    pub no_login: bool,

    /// Log in again when the session has less than this left.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = duration)]
    pub refresh_window: Duration,

    /// Who asks for the MFA code when none is given and no mfa_process or TOTP seed is
    /// configured. Default: MFA_SESSION_PROMPT, else mfa_prompt in the profile, else auto.
    /// See docs/gui.md.
    #[arg(long, value_enum, value_name = "PROMPT")]
    pub prompt: Option<crate::mfa::prompt::PromptKind>,
}

impl LoginArgs {
    /// A plain login for a command that needs a session: no flags beyond the profile.
    pub fn for_session(profile: Option<String>, refresh_window: Duration) -> LoginArgs {
        LoginArgs {
            profile,
            code: None,
            serial: None,
            duration: None,
            force: false,
            region: None,
            refresh_window,
            timeout: Duration::from_secs(10),
            mfa_process: None,
            write_profile: None,
            prompt: None,
        }
    }
}

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// A profile to renew (repeatable). Default: AWS_PROFILE, else "default".
    #[arg(short, long, value_name = "PROFILE", conflicts_with = "all")]
    pub profile: Vec<String>,

    /// Every managed profile (those with a [PROFILE-long-term] section or a session).
    #[arg(short, long)]
    pub all: bool,

    /// Renew sessions that expire within this time [default: 1h, at most a third of the
    /// session's life, so a short session is not renewed by every run]. A threshold given is
    /// honoured as given: --threshold 36h renews a 12-hour session at once.
    #[arg(short, long, value_name = "DURATION", value_parser = duration)]
    pub threshold: Option<Duration>,

    /// A command that prints the current MFA code, for every profile of this run (overrides
    /// mfa_process and mfa_totp_secret_file in the files).
    #[arg(long, value_name = "COMMAND")]
    pub mfa_process: Option<String>,

    /// Give up on an AWS call attempt after this long, at least 1s (a call is tried 3 times,
    /// except one carrying an MFA code: AWS takes a code once).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = timeout)]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The profile whose key to rotate. Default: AWS_PROFILE, else "default".
    #[arg(short, long, value_name = "PROFILE")]
    pub profile: Option<String>,

    /// Deactivate the old key instead of deleting it.
    #[arg(long)]
    pub keep_old: bool,

    /// When the user already has two keys: delete this one (not the stored one) first.
    #[arg(long, value_name = "KEY_ID")]
    pub delete: Option<String>,

    /// Region for the IAM/STS endpoints. Default: as for login.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Give up on an AWS call attempt after this long.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = timeout)]
    pub timeout: Duration,
}

/// `setup --store`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreArg {
    File,
    Keyring,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The profile to set up. Default: AWS_PROFILE, else "default".
    #[arg(short, long, value_name = "PROFILE")]
    pub profile: Option<String>,

    /// The MFA device's ARN (otherwise found with ListMFADevices).
    #[arg(short, long, value_name = "ARN")]
    pub serial: Option<String>,

    /// Where the secret access key and TOTP seed live: the credentials file (as aws-mfa keeps
    /// them) or the OS keyring. Without it, where they are now.
    #[arg(long, value_enum, value_name = "STORE")]
    pub store: Option<StoreArg>,

    /// Record this command as mfa_process (prints the current code; for `refresh`).
    #[arg(long, value_name = "COMMAND", conflicts_with = "totp_secret_file")]
    pub mfa_process: Option<String>,

    /// Record this file (base32 TOTP seed, mode 600) as mfa_totp_secret_file.
    #[arg(long, value_name = "PATH")]
    pub totp_secret_file: Option<std::path::PathBuf>,

    /// Region for the IAM/STS endpoints. Default: as for login.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Give up on an AWS call attempt after this long (at least 1s).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = timeout)]
    pub timeout: Duration,
}
