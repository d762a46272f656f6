/* The memo: what one build keeps for the next in the same process (kiln
 * preview). A value is stored under a string key that names everything it
 * was made from (a cache entry's path with its inode, size and modification
 * time; a figure's hash over every input of the plotter), so it is never
 * stale and never replaced. Each build marks what it used (kr_memo_begin
 * starts a build, kr_memo_get and kr_memo_put mark); kr_memo_end drops what
 * the build did not use, so the memo holds what the last build needed and
 * no more. Safe to use from the figure workers' threads at once. */
#include "base/base.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct memo_item {
    char *key;
    void *value;
    void (*free_value)(void *);
    unsigned long used; /* the build that used it last */
} memo_item;

struct kiln_memo {
    pthread_mutex_t mu;
    memo_item *items;
    int n, cap;
    unsigned long build;
    long hits, misses;
};

kiln_memo *kiln_memo_new(void)
{
    kiln_memo *m = kb_xmalloc(sizeof *m);
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

static void drop(memo_item *it)
{
    if (it->free_value) it->free_value(it->value);
    free(it->key);
}

void kiln_memo_free(kiln_memo *m)
{
    if (!m) return;
    for (int i = 0; i < m->n; i++) drop(&m->items[i]);
    free(m->items);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void kiln_memo_counts(kiln_memo *m, long *hits, long *misses, int *items)
{
    pthread_mutex_lock(&m->mu);
    if (hits) *hits = m->hits;
    if (misses) *misses = m->misses;
    if (items) *items = m->n;
    pthread_mutex_unlock(&m->mu);
}

void kr_memo_begin(kiln_memo *m)
{
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    m->build++;
    pthread_mutex_unlock(&m->mu);
}

void kr_memo_end(kiln_memo *m)
{
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    int k = 0;
    for (int i = 0; i < m->n; i++) {
        if (m->items[i].used == m->build) m->items[k++] = m->items[i];
        else drop(&m->items[i]);
    }
    m->n = k;
    pthread_mutex_unlock(&m->mu);
}

/* a linear search: a build holds tens of items, not thousands */
const void *kr_memo_get(kiln_memo *m, const char *key)
{
    if (!m) return NULL;
    pthread_mutex_lock(&m->mu);
    const void *v = NULL;
    for (int i = 0; i < m->n && !v; i++)
        if (!strcmp(m->items[i].key, key)) {
            m->items[i].used = m->build;
            v = m->items[i].value;
        }
    if (v) m->hits++;
    else m->misses++;
    pthread_mutex_unlock(&m->mu);
    return v;
}

void kr_memo_put(kiln_memo *m, const char *key, void *value, void (*free_value)(void *))
{
    if (!m) {
        if (free_value) free_value(value);
        return;
    }
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->items[i].key, key)) { /* made twice at once: keep the first */
            m->items[i].used = m->build;
            pthread_mutex_unlock(&m->mu);
            if (free_value) free_value(value);
            return;
        }
    KR_GROW(m->items, m->cap, m->n + 1);
    m->items[m->n++] = (memo_item){kr_xstrdup(key), value, free_value, m->build};
    pthread_mutex_unlock(&m->mu);
}
