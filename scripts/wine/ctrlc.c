#include <windows.h>
#include <stdio.h>
/* ctrlc.exe: prints READY, waits up to 20 s for a Ctrl-C on its console (handled, as a program
   that decides what Ctrl-C means does), prints GOT CTRL-C and exits 42; exits 3 if none came.
   Test environment only: the command `exec` runs, to show that Ctrl-C reaches it (a process
   that inherited "ignore Ctrl-C" never sees it) and that its exit code comes back. */
static HANDLE got;

static BOOL WINAPI on_ctrl(DWORD kind) {
    if (kind != CTRL_C_EVENT) return FALSE;
    SetEvent(got);
    return TRUE;
}

int main(void) {
    got = CreateEventW(NULL, TRUE, FALSE, NULL);
    SetConsoleCtrlHandler(on_ctrl, TRUE);
    printf("READY\n");
    fflush(stdout);
    if (WaitForSingleObject(got, 20000) != WAIT_OBJECT_0) return 3;
    printf("GOT CTRL-C\n");
    fflush(stdout);
    return 42;
}
