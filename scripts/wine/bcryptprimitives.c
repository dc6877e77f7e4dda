#include <windows.h>
#include <ntsecapi.h>
/* ProcessPrng, which Rust's std imports from bcryptprimitives.dll and wine 8 lacks, over
   RtlGenRandom (advapi32's SystemFunction036). Test environment only. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, n)) return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
