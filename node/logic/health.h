/* A person's case as a node knows it, from the case_status events it holds, and the
 * infectious window that tracing starts from (domain rules of the Ministry of Health,
 * 2021-2022: from two days before symptom onset or, without symptoms, before the
 * positive sample; until the case is cleared). */
#ifndef TV_NODE_HEALTH_H
#define TV_NODE_HEALTH_H

#include "store/store.h"

#define TV_INFECTIOUS_BEFORE_MS ((int64_t)2 * 86400000) /* before onset or sample */
#define TV_WINDOW_OPEN INT64_MAX                        /* a window not closed yet */

typedef struct tv_case {
    store_case current;  /* the status in force: the event with the largest (HLC, origin) */
    int has_window;      /* an F0 was declared */
    int64_t window_from; /* two days before the last F0's onset (else its sample) */
    int64_t window_to;   /* when a later status cleared it (its `at`, else when it was
                          * recorded), else TV_WINDOW_OPEN */
    int64_t declared_ms; /* when the last F0 was declared (its HLC time) */
} tv_case;

/* The case of person ref. Returns 0, TV_ENOTFOUND (no case_status held) or a store error. */
int tv_case_get(store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES], tv_case *out);

/* The case of one person from their case_status rows in (HLC, origin) order. Returns 0,
 * or TV_ENOTFOUND when n is 0. */
int tv_case_from_rows(const store_case *rows, size_t n, tv_case *out);

/* Calls fn once for each person with a case_status held, in pseudonym order. Returns 0,
 * fn's first non-zero result, or a store error. */
typedef int (*tv_case_person_fn)(const uint8_t ref[TV_PERSON_REF_BYTES], void *ctx);
int tv_cases_each_person(store_txn *t, tv_case_person_fn fn, void *ctx);

/* The colour a gate shows for a status (F0 red, F1 orange, F2 yellow), in Vietnamese with
 * the English in brackets; NULL for cleared or an unknown status. */
const char *tv_case_colour(uint8_t status);

/* Reads "F0", "F1", "F2" or "cleared" (any case). Returns the status or -1. */
int tv_case_status_parse(const char *s);

#endif
