#ifdef __linux__
#define _GNU_SOURCE
#include <sched.h>
#endif

#include "placement.h"

#ifdef __linux__

int chk_move_to_another_core(int *arrived) {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return -1;
    int current = sched_getcpu();
    if (current < 0 || CPU_COUNT(&allowed) < 2 || !CPU_ISSET(current, &allowed)) return -1;
    cpu_set_t others = allowed;
    CPU_CLR(current, &others);
    /* Leaving the current core out moves the thread before the call returns; putting it back
       afterwards moves nothing, and the scheduler may place the thread anywhere again. */
    if (sched_setaffinity(0, sizeof others, &others) != 0) return -1;
    if (arrived) *arrived = sched_getcpu();
    (void)sched_setaffinity(0, sizeof allowed, &allowed);
    return current;
}

int chk_allowed_cores(void) {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return -1;
    return CPU_COUNT(&allowed);
}

#else

int chk_move_to_another_core(int *arrived) {
    (void)arrived;
    return -1;
}
int chk_allowed_cores(void) { return -1; }

#endif
