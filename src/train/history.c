/* History as JSON (jansson): per-epoch logs, per-step (loss, lr), final
 * metrics and how the run ended. Non-finite numbers are written as null and
 * read back as NaN, so a diverged run round-trips. */
#include "kiln/train.h"
#include "internal.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static double get(const json_t *o, const char *k) { return kiln_json_get(json_object_get(o, k)); }

json_t *kiln_history_json(const kiln_history *h)
{
    json_t *root = json_object();
    json_t *ep = json_object();
    const char *names[] = {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"};
    for (int k = 0; k < 6; k++) {
        json_t *a = json_array();
        for (int i = 0; i < h->n_epochs; i++) {
            const kiln_epoch_log *e = &h->epochs[i];
            double v[] = {e->loss, e->accuracy, e->val_loss, e->val_accuracy, e->lr, e->seconds};
            json_array_append_new(a, kiln_json_num(v[k]));
        }
        json_object_set_new(ep, names[k], a);
    }
    json_object_set_new(root, "epochs", ep);
    json_t *sl = json_array(), *sr = json_array();
    for (long i = 0; i < h->n_steps; i++) {
        json_array_append_new(sl, kiln_json_num(h->steps[i].loss));
        json_array_append_new(sr, kiln_json_num(h->steps[i].lr));
    }
    json_t *st = json_object();
    json_object_set_new(st, "loss", sl);
    json_object_set_new(st, "lr", sr);
    json_object_set_new(root, "steps", st);
    json_object_set_new(root, "test_loss", kiln_json_num(h->test_loss));
    json_object_set_new(root, "test_accuracy", kiln_json_num(h->test_accuracy));
    json_object_set_new(root, "n_train", json_integer(h->n_train));
    json_object_set_new(root, "n_val", json_integer(h->n_val));
    json_object_set_new(root, "n_test", json_integer(h->n_test));
    json_object_set_new(root, "diverged", json_boolean(h->diverged));
    json_object_set_new(root, "diverged_step", json_integer(h->diverged_step));
    json_object_set_new(root, "stopped_by", json_string(h->stopped_by));
    json_object_set_new(root, "stopped_epoch", json_integer(h->stopped_epoch));
    json_object_set_new(root, "best_epoch", json_integer(h->best_epoch));
    json_object_set_new(root, "seconds", kiln_json_num(h->seconds));
    return root;
}

char *kiln_history_to_json(const kiln_history *h)
{
    json_t *root = kiln_history_json(h);
    char *s = json_dumps(root, JSON_INDENT(1) | JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(root);
    return s;
}

int kiln_history_from_jansson(kiln_history *h, const json_t *root, char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    const json_t *ep = json_object_get(root, "epochs");
    const json_t *st = json_object_get(root, "steps");
    if (!json_is_object(root) || !json_is_object(ep) || !json_is_object(st))
        return kiln_fail(err, errlen, "history: missing 'epochs' or 'steps'");
    const char *names[] = {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"};
    const json_t *arr[6];
    for (int k = 0; k < 6; k++) {
        arr[k] = json_object_get(ep, names[k]);
        if (!json_is_array(arr[k])) return kiln_fail(err, errlen, "history: epochs.%s is not an array", names[k]);
        if (json_array_size(arr[k]) != json_array_size(arr[0]))
            return kiln_fail(err, errlen, "history: epochs.%s has a different length", names[k]);
    }
    int n = (int)json_array_size(arr[0]);
    h->epochs = kiln_xcalloc((size_t)n + 1, sizeof *h->epochs);
    h->n_epochs = h->cap_epochs = n;
    for (int i = 0; i < n; i++) {
        double v[6];
        for (int k = 0; k < 6; k++) {
            const json_t *x = json_array_get(arr[k], (size_t)i);
            v[k] = kiln_json_get(x);
        }
        h->epochs[i] = (kiln_epoch_log){v[0], v[1], v[2], v[3], v[4], v[5]};
    }
    const json_t *sl = json_object_get(st, "loss"), *sr = json_object_get(st, "lr");
    if (!json_is_array(sl) || !json_is_array(sr) || json_array_size(sl) != json_array_size(sr)) {
        kiln_history_free(h);
        return kiln_fail(err, errlen, "history: steps.loss and steps.lr must be arrays of one length");
    }
    long ns = (long)json_array_size(sl);
    h->steps = kiln_xcalloc((size_t)ns + 1, sizeof *h->steps);
    h->n_steps = h->cap_steps = ns;
    for (long i = 0; i < ns; i++) {
        const json_t *a = json_array_get(sl, (size_t)i), *b = json_array_get(sr, (size_t)i);
        h->steps[i].loss = (float)kiln_json_get(a);
        h->steps[i].lr = (float)kiln_json_get(b);
    }
    h->test_loss = get(root, "test_loss");
    h->test_accuracy = get(root, "test_accuracy");
    h->n_train = (int)json_integer_value(json_object_get(root, "n_train"));
    h->n_val = (int)json_integer_value(json_object_get(root, "n_val"));
    h->n_test = (int)json_integer_value(json_object_get(root, "n_test"));
    h->diverged = json_is_true(json_object_get(root, "diverged"));
    h->diverged_step = (int)json_integer_value(json_object_get(root, "diverged_step"));
    const char *sb = json_string_value(json_object_get(root, "stopped_by"));
    snprintf(h->stopped_by, sizeof h->stopped_by, "%s", sb ? sb : "");
    h->stopped_epoch = (int)json_integer_value(json_object_get(root, "stopped_epoch"));
    h->best_epoch = (int)json_integer_value(json_object_get(root, "best_epoch"));
    h->seconds = get(root, "seconds");
    return 0;
}

int kiln_history_from_json(kiln_history *h, const char *text, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root) {
        memset(h, 0, sizeof *h);
        return kiln_fail(err, errlen, "history: invalid JSON at line %d: %s", je.line, je.text);
    }
    int rc = kiln_history_from_jansson(h, root, err, errlen);
    json_decref(root);
    return rc;
}
