/* EarlyStopping's decision, as Keras' EarlyStopping.on_epoch_end:
 *   improvement:  current - min_delta > best   (max mode)
 *                 current + min_delta < best   (min mode)
 *   the wait counter grows every epoch and resets on an improvement;
 *   training stops when wait >= patience, never after the first epoch;
 *   the weights of the first epoch are kept even without an improvement, so
 *   restore_best always has something to restore. */
#include "callbacks.h"

#include <math.h>
#include <string.h>

double kiln_epoch_metric(const kiln_epoch_log *e, const char *name)
{
    if (!strcmp(name, "loss")) return e->loss;
    if (!strcmp(name, "accuracy")) return e->accuracy;
    if (!strcmp(name, "val_accuracy")) return e->val_accuracy;
    return e->val_loss;
}

void kiln_es_init(kiln_es_state *s, const kiln_config *c)
{
    memset(s, 0, sizeof *s);
    if (!strcmp(c->es_mode, "max")) s->maximize = 1;
    else if (!strcmp(c->es_mode, "min")) s->maximize = 0;
    else s->maximize = strstr(c->es_monitor, "acc") != NULL;
    s->best = s->maximize ? -INFINITY : INFINITY;
    s->wait = 0;
    s->best_epoch = -1;
}

int kiln_es_update(kiln_es_state *s, const kiln_config *c, int epoch, double current)
{
    int act = 0;
    if (s->best_epoch < 0) { /* nothing kept yet: keep this epoch's weights */
        s->best_epoch = epoch;
        act |= KILN_ES_SAVE;
    }
    s->wait++;
    int better = s->maximize ? (current - c->es_min_delta > s->best)
                             : (current + c->es_min_delta < s->best);
    if (better) {
        s->best = current;
        s->best_epoch = epoch;
        s->wait = 0;
        return act | KILN_ES_SAVE;
    }
    if (s->wait >= c->es_patience && epoch > 0) act |= KILN_ES_STOP;
    return act;
}
