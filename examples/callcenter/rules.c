/* The call-center's own check of status changes sent by terminals. It is written independently
 * of the library's rules core on purpose: the emulator plays another system and so doubles as an
 * oracle for the terminal's behaviour. */
#include <string.h>

#include "callcenter.h"

static const char *const statuses[] = {
    "Unconfirmed", "WaitCooking", "ReadyForCooking", "CookingStarted", "CookingCompleted",
    "Waiting",     "OnWay",       "Delivered",       "Closed",         "Cancelled"};

/* Allowed next statuses of each status (the terminal's undo steps included). */
static const struct {
    const char *from;
    const char *to[5];
} next[] = {
    {"Unconfirmed", {"WaitCooking", "ReadyForCooking", "CookingStarted", "Cancelled"}},
    {"WaitCooking", {"ReadyForCooking", "CookingStarted", "Cancelled"}},
    {"ReadyForCooking", {"CookingStarted", "Cancelled"}},
    {"CookingStarted", {"CookingCompleted", "Cancelled"}},
    {"CookingCompleted", {"Waiting", "Cancelled"}},
    {"Waiting", {"OnWay", "Closed", "Cancelled"}},
    {"OnWay", {"Delivered", "Waiting", "Cancelled"}},
    {"Delivered", {"Closed", "OnWay", "Cancelled"}},
    {"Closed", {"Cancelled"}},
    {"Cancelled", {NULL}},
};

bool cc_status_known(const char *status)
{
    for (size_t i = 0; status && i < sizeof statuses / sizeof *statuses; i++)
        if (strcmp(status, statuses[i]) == 0)
            return true;
    return false;
}

bool cc_status_final(const char *status)
{
    return status && (strcmp(status, "Closed") == 0 || strcmp(status, "Cancelled") == 0);
}

const char *cc_transition_refusal(const char *from, const char *to)
{
    if (!cc_status_known(to))
        return "unknown status";
    for (size_t i = 0; i < sizeof next / sizeof *next; i++) {
        if (strcmp(next[i].from, from) != 0)
            continue;
        for (size_t j = 0; j < 5 && next[i].to[j]; j++)
            if (strcmp(next[i].to[j], to) == 0)
                return NULL;
        return "transition not allowed";
    }
    return "unknown current status";
}
