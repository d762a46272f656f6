/* Private: the epoch-end callbacks' decision logic as small pure functions,
 * so the trainer stays a loop and the tests can drive them with constructed
 * histories. */
#ifndef KILN_TRAIN_CALLBACKS_H
#define KILN_TRAIN_CALLBACKS_H
#include "kiln/train.h"

/* Keras EarlyStopping (baseline=None). */
typedef struct kiln_es_state {
    int maximize;     /* from es_mode, or es_monitor for 'auto' */
    double best;      /* best monitored value so far */
    int wait;         /* epochs since the last improvement */
    int best_epoch;   /* epoch of the weights kept for restoring, -1 = none */
} kiln_es_state;

enum { KILN_ES_SAVE = 1, KILN_ES_STOP = 2 };

void kiln_es_init(kiln_es_state *s, const kiln_config *c);
/* Feed one epoch's monitored value. Returns a mask: KILN_ES_SAVE = keep the
 * current weights as the best (an improvement, or the first epoch, as Keras
 * keeps the first epoch's weights when nothing ever improves); KILN_ES_STOP =
 * stop now and restore the kept weights (when es_restore_best). */
int kiln_es_update(kiln_es_state *s, const kiln_config *c, int epoch, double current);

/* The monitored metric of an epoch log by name (val_loss, loss, accuracy,
 * val_accuracy). */
double kiln_epoch_metric(const kiln_epoch_log *e, const char *name);
#endif
