/* libFuzzer target: template files are written by hand and may hold any
 * bytes; parsing must reject or accept them safely, and whatever parses
 * must render, at any output size, into valid NUL-terminated text.
 *
 * The first input byte picks the (scenario, audience, state) combination,
 * so both internal and external rules are exercised; the rest is the text. */
#include "template.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    unsigned want, seen;
    char name[96];
    const char *scenario, *audience, *state;
} s_pick_t;

static int s_pick(const char *scenario, const char *audience, const char *state, const char *text,
                  bool from_file, void *ctx)
{
    (void)text;
    (void)from_file;
    s_pick_t *p = ctx;
    if (p->seen++ != p->want)
        return 0;
    snprintf(p->name, sizeof p->name, "%s.%s.%s.txt", scenario, audience, state);
    p->scenario = scenario;
    p->audience = audience;
    p->state = state;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char err[256];
    tc_templates_t *t = NULL;
    if (tc_templates_load(NULL, &t, err, sizeof err) != 0)
        return 0;
    s_pick_t p = {.want = data[0] % 32};
    (void)tc_templates_each(t, s_pick, &p);
    if (tc_templates_parse(t, p.name, (const char *)data + 1, size - 1, err, sizeof err) == 0) {
        static const tc_template_vars_t vars = {
            .service = "svc",
            .components = "Checkout",
            .state = "Investigating",
            .impact = "Some \xc3\xa9 payments fail.",
            .next_update = "14:30 UTC",
            .incident = "INC-1",
            .severity = "SEV1",
            .started = "08:00",
            .title = "{{title}}",
            .summary = "bad \xff byte",
            .window = "02:00-04:00",
        };
        char out[TC_TEMPLATE_MAX * 4];
        /* Small capacities exercise truncation, the full one rendering. */
        size_t caps[] = {1, 2, 7, 64, sizeof out};
        for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
            (void)tc_templates_render(t, p.scenario, p.audience, p.state, &vars, out, caps[i]);
            if (strlen(out) >= caps[i])
                __builtin_trap();
        }
        (void)tc_templates_render(t, p.scenario, p.audience, p.state, NULL, out, sizeof out);
    }
    tc_templates_destroy(&t);
    return 0;
}
