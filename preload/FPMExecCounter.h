/* FPMExecCounter: preloaded into an exec pool's program (LD_PRELOAD), not linked by anything.
   The environment variable it reads, and its format, are documented in exec_counter.c. */
#ifndef FPM_EXEC_COUNTER_H
#define FPM_EXEC_COUNTER_H
/* The variable the master sets for the program: "FD:POOL_OFFSET:SLOT_OFFSET". */
#define FPM_EXEC_COUNTER_ENV "SWIFT_FPM_EXEC_COUNTER"
#endif
