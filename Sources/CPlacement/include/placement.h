#ifndef CHKFLOW_CPLACEMENT_H
#define CHKFLOW_CPLACEMENT_H

/* Moves the calling thread to another of the cores it may run on, then lets it run on any of
   them again. Returns the core it left, or -1 when it did not move (a single allowed core, a
   system without per-thread placement, or a failed call); `arrived`, when not NULL, is set to
   the core it moved to. */
int chk_move_to_another_core(int *arrived);

/* How many cores the calling thread may run on, or -1 where that is not known. */
int chk_allowed_cores(void);

#endif
