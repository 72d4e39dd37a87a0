/* TV_ASSERT(cond): an invariant the code relies on, checked at run time.
 *
 * On when the build defines TV_ASSERTIONS (the CMake option of that name, on by default,
 * which also takes -DNDEBUG out of the release flags so that <assert.h> stays on too) or
 * does not define NDEBUG. A failed assertion prints "FILE:LINE: FUNCTION: assertion failed:
 * COND" on standard error and aborts (SIGABRT): state that breaks an invariant is never
 * written on. Conditions must have no side effects: with assertions off they are not
 * evaluated. TV_ASSERT_ON says which, for checks too costly to compute otherwise.
 *
 * TV_ASSERT_COSTLY(cond): the same, for a check that costs a measurable share of the
 * throughput (a scan encoded, decoded and compared on every encode: 10-15 % of the ingest
 * benchmark). On only when the build also defines TV_COSTLY_ASSERTIONS, as the sanitizer
 * build (which runs the whole suite) and the fuzzers do; TV_ASSERT_COSTLY_ON says which. */
#ifndef TV_CRDT_ASSERT_H
#define TV_CRDT_ASSERT_H

#if defined(TV_ASSERTIONS) || !defined(NDEBUG)
#define TV_ASSERT_ON 1
#define TV_ASSERT(cond) ((cond) ? (void)0 : tv_assert_fail(#cond, __FILE__, __LINE__, __func__))
#else
#define TV_ASSERT_ON 0
#define TV_ASSERT(cond) ((void)0)
#endif

#if TV_ASSERT_ON && defined(TV_COSTLY_ASSERTIONS)
#define TV_ASSERT_COSTLY_ON 1
#define TV_ASSERT_COSTLY(cond) TV_ASSERT(cond)
#else
#define TV_ASSERT_COSTLY_ON 0
#define TV_ASSERT_COSTLY(cond) ((void)0)
#endif

/* Prints where and what failed, then aborts. */
_Noreturn void tv_assert_fail(const char *cond, const char *file, int line, const char *func);

#endif
