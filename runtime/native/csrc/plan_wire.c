/*
 * A plan in one buffer, so that it crosses an execve: the runtime writes it to a
 * memfd (pyrunc_plan_memfd), pyrunc-init maps it and turns its offsets back into
 * pointers (pyrunc_plan_map).
 *
 * Layout: the struct pyrunc_plan at offset 0, then the pre-operations, the
 * operations, the kept fds, and every string, vector and data block the
 * operations point to, each 8-aligned.  A pointer is stored as its block's offset;
 * 0 (the header's own offset) stands for NULL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pyrunc.h"

/* -- flattening (the runtime) ------------------------------------------------------ */

struct wire {
    char *buf; /* NULL: only count */
    size_t off;
};

/* Room for n bytes; src copied there unless NULL.  Returns the offset. */
static size_t put(struct wire *w, const void *src, size_t n)
{
    size_t at = (w->off + 7) & ~(size_t)7;
    if (w->buf && src && n)
        memcpy(w->buf + at, src, n);
    w->off = at + n;
    return at;
}

static size_t put_str(struct wire *w, const char *s)
{
    return s ? put(w, s, strlen(s) + 1) : 0;
}

static size_t put_vec(struct wire *w, char *const *v)
{
    if (!v)
        return 0;
    size_t n = 0;
    while (v[n])
        n++;
    size_t at = put(w, NULL, (n + 1) * sizeof(uintptr_t));
    for (size_t i = 0; i <= n; i++) {
        size_t o = i < n ? put_str(w, v[i]) : 0;
        if (w->buf)
            memcpy(w->buf + at + i * sizeof(uintptr_t), &(uintptr_t){ o }, sizeof(uintptr_t));
    }
    return at;
}

static size_t put_ops(struct wire *w, const struct pyrunc_op *ops, size_t n)
{
    if (n == 0)
        return 0;
    size_t at = put(w, ops, n * sizeof(*ops));
    for (size_t i = 0; i < n; i++) {
        const struct pyrunc_op *op = &ops[i];
        struct pyrunc_op *dst = w->buf ? (struct pyrunc_op *)(w->buf + at) + i : NULL;
        for (int j = 0; j < 4; j++) {
            size_t o = put_str(w, op->s[j]);
            if (dst)
                dst->s[j] = (const char *)(uintptr_t)o;
        }
        for (int j = 0; j < 2; j++) {
            size_t o = put_vec(w, op->v[j]);
            if (dst)
                dst->v[j] = (char *const *)(uintptr_t)o;
        }
        size_t o = op->data ? put(w, op->data, op->data_size) : 0;
        if (dst)
            dst->data = (const void *)(uintptr_t)o;
    }
    return at;
}

static void flatten(struct wire *w, const struct pyrunc_plan *plan)
{
    size_t at = put(w, plan, sizeof(*plan));
    size_t pre = put_ops(w, plan->pre_ops, plan->n_pre);
    size_t ops = put_ops(w, plan->ops, plan->n_ops);
    size_t keep = plan->n_keep ? put(w, plan->keep_fds, plan->n_keep * sizeof(int)) : 0;
    if (w->buf) {
        struct pyrunc_plan *dst = (struct pyrunc_plan *)(w->buf + at);
        dst->pre_ops = (const struct pyrunc_op *)(uintptr_t)pre;
        dst->ops = (const struct pyrunc_op *)(uintptr_t)ops;
        dst->keep_fds = (const int *)(uintptr_t)keep;
    }
}

/* The plan in a new memfd (close-on-exec, at offset 0), or -errno. */
int pyrunc_plan_memfd(const struct pyrunc_plan *plan)
{
    struct wire w = { NULL, 0 };
    flatten(&w, plan);
    size_t size = w.off;
    w = (struct wire){ calloc(1, size), 0 };
    if (!w.buf)
        return -ENOMEM;
    flatten(&w, plan);
    int fd = memfd_create("pyrunc-plan", MFD_CLOEXEC);
    int err = fd < 0 ? errno : 0;
    for (size_t done = 0; !err && done < size;) {
        ssize_t n = write(fd, w.buf + done, size - done);
        if (n < 0 && errno != EINTR)
            err = errno;
        else if (n > 0)
            done += (size_t)n;
    }
    free(w.buf);
    if (err) {
        if (fd >= 0)
            close(fd);
        return -err;
    }
    return fd;
}

/* -- mapping (pyrunc-init) --------------------------------------------------------- */

struct map {
    char *base;
    size_t size;
};

/* The pointer for offset o of a block of n bytes, NULL for 0; *ok = 0 if outside. */
static void *at(const struct map *m, uintptr_t o, size_t n, int *ok)
{
    if (o == 0)
        return NULL;
    if (o >= m->size || n > m->size - o) {
        *ok = 0;
        return NULL;
    }
    return m->base + o;
}

static const char *str_at(const struct map *m, uintptr_t o, int *ok)
{
    char *s = at(m, o, 1, ok);
    if (s && !memchr(s, '\0', m->size - o))
        *ok = 0;
    return s;
}

static char *const *vec_at(const struct map *m, uintptr_t o, int *ok)
{
    uintptr_t *v = at(m, o, sizeof(uintptr_t), ok);
    for (size_t i = 0; v && *ok; i++) {
        if (!at(m, o + i * sizeof(uintptr_t), sizeof(uintptr_t), ok))
            break;
        if (v[i] == 0)
            return (char *const *)v;
        v[i] = (uintptr_t)str_at(m, v[i], ok);
    }
    *ok = 0;
    return NULL;
}

static const struct pyrunc_op *ops_at(const struct map *m, uintptr_t o, size_t n, int *ok)
{
    if (n > m->size / sizeof(struct pyrunc_op)) {
        *ok = 0;
        return NULL;
    }
    struct pyrunc_op *ops = at(m, o, n * sizeof(*ops), ok);
    for (size_t i = 0; ops && i < n && *ok; i++) {
        struct pyrunc_op *op = &ops[i];
        if (op->kind <= 0 || op->kind >= OP__COUNT)
            *ok = 0;
        for (int j = 0; j < 4; j++)
            op->s[j] = str_at(m, (uintptr_t)op->s[j], ok);
        for (int j = 0; j < 2; j++)
            op->v[j] = op->v[j] ? vec_at(m, (uintptr_t)op->v[j], ok) : NULL;
        op->data = at(m, (uintptr_t)op->data, op->data_size, ok);
    }
    return ops;
}

/* Map the plan in fd (closed) privately and relocate it; NULL with errno if it
 * is not one pyrunc_plan_memfd wrote. */
const struct pyrunc_plan *pyrunc_plan_map(int fd)
{
    struct stat st;
    int r = fstat(fd, &st);
    if (r < 0 || (size_t)st.st_size < sizeof(struct pyrunc_plan)) {
        if (r == 0)
            errno = EINVAL;
        close(fd);
        return NULL;
    }
    struct map m = { mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0),
                     (size_t)st.st_size };
    close(fd);
    if (m.base == MAP_FAILED)
        return NULL;
    struct pyrunc_plan *plan = (struct pyrunc_plan *)m.base;
    int ok = 1;
    plan->pre_ops = ops_at(&m, (uintptr_t)plan->pre_ops, plan->n_pre, &ok);
    plan->ops = ops_at(&m, (uintptr_t)plan->ops, plan->n_ops, &ok);
    if (plan->n_keep > m.size / sizeof(int))
        ok = 0;
    plan->keep_fds = ok ? at(&m, (uintptr_t)plan->keep_fds, plan->n_keep * sizeof(int), &ok)
                        : NULL;
    if (!ok || (plan->n_pre && !plan->pre_ops) || (plan->n_ops && !plan->ops) ||
        (plan->n_keep && !plan->keep_fds)) {
        munmap(m.base, m.size);
        errno = EINVAL;
        return NULL;
    }
    return plan;
}
