#include <stdio.h>
#include "CFPMShims.h"

int cfpm_stdout_line_buffered(void) { return setvbuf(stdout, NULL, _IOLBF, 0); }
