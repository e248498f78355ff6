/* A team of threads of our own for one kernel call, and the calling thread's
 * bound on the size of one BLAS product.
 *
 * snf_team_run(fn, ctx, n) runs fn(ctx, team, t) for t = 0 .. size - 1,
 * member 0 on the calling thread, the others on threads created for the call
 * and joined before it returns: no thread outlives the call, so nothing is
 * left for a fork() to inherit, no thread spins after the call, and no
 * setting of an OpenMP runtime is read or changed.  size is n when every
 * thread could be created, fewer otherwise (1 at worst, or always in a build
 * without POSIX threads: SNF_PTHREADS 0, chosen by setup.py); the members
 * read it with snf_team_size() and share the work accordingly.
 * snf_team_barrier() waits for every member (mutex and condition variable:
 * a waiting member sleeps, it does not spin).
 *
 * snf_gemm_limit is per thread: the largest M * N * K of one BLAS product
 * issued by this thread (0: no bound).  src/_blas.pxd splits larger products
 * into pieces below it, so that a BLAS that runs products below a size on the
 * calling thread alone (OpenBLAS) never wakes its own threads for them; the
 * bound is set by the kernel entries for the duration of a call, on their own
 * threads only.
 */
#ifndef SNF_TEAM_H
#define SNF_TEAM_H

#include <Python.h>
#include <stdlib.h>

#ifndef SNF_PTHREADS
#define SNF_PTHREADS 0
#endif

#if defined(_MSC_VER)
static __declspec(thread) double snf_gemm_limit = 0;
#else
static __thread double snf_gemm_limit = 0;
#endif

typedef struct snf_team snf_team;
typedef void (*snf_member_fn)(void *ctx, snf_team *team, Py_ssize_t t);

#if SNF_PTHREADS
#include <pthread.h>
#if defined(__GLIBC__) && defined(__x86_64__)
/* glibc 2.34 gave pthread_create and pthread_join new symbol versions when libpthread moved into libc;
   linking their first versions keeps the extensions within manylinux_2_28 (no newer glibc symbol). */
__asm__(".symver pthread_create,pthread_create@GLIBC_2.2.5");
__asm__(".symver pthread_join,pthread_join@GLIBC_2.2.5");
#endif

struct snf_team {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    Py_ssize_t size, waiting, generation;
    snf_member_fn fn;
    void *ctx;
    double gemm_limit;
};

typedef struct {
    snf_team *team;
    Py_ssize_t t;
} snf_member;

static void snf_team_barrier(snf_team *team)
{
    Py_ssize_t generation;
    pthread_mutex_lock(&team->mu);
    generation = team->generation;
    if (++team->waiting >= team->size) {
        team->waiting = 0;
        team->generation++;
        pthread_cond_broadcast(&team->cv);
    } else {
        while (generation == team->generation)
            pthread_cond_wait(&team->cv, &team->mu);
    }
    pthread_mutex_unlock(&team->mu);
}

static Py_ssize_t snf_team_size(snf_team *team)
{
    Py_ssize_t size;
    pthread_mutex_lock(&team->mu);
    size = team->size;
    pthread_mutex_unlock(&team->mu);
    return size;
}

static void *snf_member_main(void *arg)
{
    snf_member *member = (snf_member *)arg;
    snf_team *team = member->team;
    snf_gemm_limit = team->gemm_limit;
    snf_team_barrier(team); /* the start: every member knows the team's size */
    team->fn(team->ctx, team, member->t);
    return NULL;
}

static Py_ssize_t snf_team_run(snf_member_fn fn, void *ctx, Py_ssize_t n)
{
    snf_team team;
    pthread_t *threads = NULL;
    snf_member *members = NULL;
    Py_ssize_t created = 0, t;
    double saved = snf_gemm_limit;
    if (n > 1) {
        threads = (pthread_t *)malloc((size_t)(n - 1) * sizeof(pthread_t));
        members = (snf_member *)malloc((size_t)(n - 1) * sizeof(snf_member));
        if (threads == NULL || members == NULL)
            n = 1;
    }
    pthread_mutex_init(&team.mu, NULL);
    pthread_cond_init(&team.cv, NULL);
    team.size = n; /* until every thread is created: no member passes the start */
    team.waiting = 0;
    team.generation = 0;
    team.fn = fn;
    team.ctx = ctx;
    team.gemm_limit = snf_gemm_limit;
    for (t = 1; t < n; t++) {
        members[created].team = &team;
        members[created].t = t;
        if (pthread_create(&threads[created], NULL, snf_member_main, &members[created]) != 0)
            break;
        created++;
    }
    pthread_mutex_lock(&team.mu);
    team.size = created + 1;
    pthread_mutex_unlock(&team.mu);
    snf_team_barrier(&team); /* the start */
    fn(ctx, &team, 0);
    for (t = 0; t < created; t++)
        pthread_join(threads[t], NULL);
    pthread_cond_destroy(&team.cv);
    pthread_mutex_destroy(&team.mu);
    free(threads);
    free(members);
    snf_gemm_limit = saved;
    return created + 1;
}

#else /* no POSIX threads: the team is the calling thread alone */

struct snf_team {
    int unused;
};

static void snf_team_barrier(snf_team *team) { (void)team; }
static Py_ssize_t snf_team_size(snf_team *team) { (void)team; return 1; }

static Py_ssize_t snf_team_run(snf_member_fn fn, void *ctx, Py_ssize_t n)
{
    snf_team team;
    (void)n;
    fn(ctx, &team, 0);
    return 1;
}

#endif
#endif
