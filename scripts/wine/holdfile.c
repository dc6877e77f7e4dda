#include <windows.h>
/* holdfile.exe PATH MARKER MILLISECONDS: opens PATH for reading with read sharing only (no
   FILE_SHARE_DELETE, as many editors and scanners do), creates MARKER once it has it, holds it
   for MILLISECONDS, then closes it. Exits 2 when PATH cannot be opened. Test environment only:
   what a rename over a file another program holds open meets on Windows. */
int main(void) {
    int argc;
    LPWSTR *argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (argc != 4) return 125;
    HANDLE h = CreateFileW(argv[1], GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) return 2;
    HANDLE m = CreateFileW(argv[2], GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (m == INVALID_HANDLE_VALUE) return 3;
    CloseHandle(m);
    Sleep((DWORD)_wtoi(argv[3]));
    CloseHandle(h);
    return 0;
}
