/* Counts the bytes a process holds from the C heap (malloc, calloc, realloc,
 * free), outside MicroPython's own heap: under the unix port that is mbedTLS's
 * memory, as on the ESP32, where mbedTLS allocates from the IDF heap.  Loaded
 * with LD_PRELOAD; the process reads the counters with os.getenv:
 *   os.getenv("MALLOCMETER")       -> "<live> <peak>" in bytes
 *   os.getenv("MALLOCMETER_RESET") -> the same, then peak = live
 * Sizes are malloc_usable_size(), what the allocator really hands out. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static long live, peak;

static void add(void *p) {
    if (p) {
        long n = __atomic_add_fetch(&live, (long)malloc_usable_size(p), __ATOMIC_RELAXED);
        if (n > peak) peak = n;
    }
}

static void sub(void *p) {
    if (p) __atomic_sub_fetch(&live, (long)malloc_usable_size(p), __ATOMIC_RELAXED);
}

void *malloc(size_t n) { void *p = __libc_malloc(n); add(p); return p; }
void *calloc(size_t k, size_t n) { void *p = __libc_calloc(k, n); add(p); return p; }
void free(void *p) { sub(p); __libc_free(p); }

void *realloc(void *p, size_t n) {
    sub(p);
    void *q = __libc_realloc(p, n);
    add(q ? q : (n ? p : NULL));  /* a failed realloc keeps p */
    return q;
}

char *getenv(const char *name) {
    static char out[48];
    static char *(*real)(const char *);
    if (strcmp(name, "MALLOCMETER") == 0 || strcmp(name, "MALLOCMETER_RESET") == 0) {
        snprintf(out, sizeof out, "%ld %ld", live, peak);
        if (name[11]) peak = live;
        return out;
    }
    if (!real) real = (char *(*)(const char *))dlsym(RTLD_NEXT, "getenv");
    return real(name);
}
