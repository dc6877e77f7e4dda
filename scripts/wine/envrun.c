#include <windows.h>
#include <shellapi.h>
#include <wchar.h>
/* envrun.exe NAME=VALUE... -- PROGRAM ARGS...: sets the variables, then runs the rest of its
   own command line verbatim, waits for it and exits with its exit code. Test environment only:
   wine replaces HOME, USERPROFILE and LOCALAPPDATA with its own values when it starts a Windows
   program from Linux, so the tests set them from inside, here. Like a shell waiting for a
   command, it ignores Ctrl-C itself and leaves it to the program. */
static BOOL WINAPI leave_to_program(DWORD kind) {
    (void)kind;
    return TRUE;
}

int main(void) {
    LPWSTR line = GetCommandLineW();
    int argc;
    LPWSTR *argv = CommandLineToArgvW(line, &argc);
    int i;
    for (i = 1; i < argc && wcscmp(argv[i], L"--") != 0; i++) {
        LPWSTR eq = wcschr(argv[i], L'=');
        if (!eq) return 125;
        *eq = 0;
        SetEnvironmentVariableW(argv[i], eq + 1);
    }
    if (i + 1 >= argc) return 125;
    /* The command line after the first " -- " (wine quotes an argument only when it must). */
    LPWSTR rest = wcsstr(line, L" -- ");
    if (!rest) return 125;
    rest += 4;
    STARTUPINFOW si = {0};
    PROCESS_INFORMATION pi;
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    SetHandleInformation(si.hStdInput, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    SetHandleInformation(si.hStdOutput, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    SetHandleInformation(si.hStdError, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    /* A handler, not SetConsoleCtrlHandler(NULL, TRUE): that flag is inherited, and the program
       would ignore Ctrl-C too. */
    SetConsoleCtrlHandler(leave_to_program, TRUE);
    if (!CreateProcessW(NULL, rest, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) return 126;
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = 1;
    GetExitCodeProcess(pi.hProcess, &code);
    return (int)code;
}
