/* A worker gives back the memory a large request body left free in malloc's heap: freed
   chunks below the mmap threshold (which glibc raises up to 32 MiB after freeing a large
   mmapped block) otherwise stay resident for the life of the process. */
#include "CFPMShims.h"
#include <malloc.h>

int cfpm_malloc_trim(void) { return malloc_trim(0); }
