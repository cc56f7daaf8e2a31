// Clang thread-safety annotations. With clang and -Wthread-safety the compiler checks that
// every GUARDED_BY field is touched only under its mutex; with other compilers they vanish.
#pragma once

#if defined(__clang__)
#define KITE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define KITE_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) KITE_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY KITE_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) KITE_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) KITE_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) KITE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) KITE_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) KITE_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define EXCLUDES(...) KITE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS KITE_THREAD_ANNOTATION(no_thread_safety_analysis)
