/* Block Markdown -> kiln blocks (paragraphs, headings, lists, code,
 * directives), one file at a time. */
#include "doc/loader.h"
#include <cmark.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- blocks ------------------------------------------------------------------------------ */

static kiln_block *convert_blocks(loader *L, cmark_node *first);

static kiln_block *convert_block(loader *L, cmark_node *n)
{
    kiln_block *b = ka_alloc(L->a, sizeof *b);
    b->line = cmark_node_get_start_line(n);
    b->text = b->info = b->anchor = "";
    int line = b->line;
    switch (cmark_node_get_type(n)) {
    case CMARK_NODE_PARAGRAPH:
        b->kind = KILN_BL_PARAGRAPH;
        b->inlines = convert_inlines(L, cmark_node_first_child(n), &line);
        break;
    case CMARK_NODE_HEADING: {
        b->kind = KILN_BL_HEADING;
        b->level = cmark_node_get_heading_level(n);
        b->inlines = convert_inlines(L, cmark_node_first_child(n), &line);
        sbuf t = {0};
        plain_text(&t, b->inlines);
        b->anchor = make_anchor(L, t.s ? t.s : "");
        sb_free(&t);
        break;
    }
    case CMARK_NODE_BLOCK_QUOTE:
        b->kind = KILN_BL_QUOTE;
        b->children = convert_blocks(L, cmark_node_first_child(n));
        break;
    case CMARK_NODE_LIST:
        b->kind = KILN_BL_LIST;
        b->ordered = cmark_node_get_list_type(n) == CMARK_ORDERED_LIST;
        b->start = cmark_node_get_list_start(n);
        b->tight = cmark_node_get_list_tight(n);
        b->children = convert_blocks(L, cmark_node_first_child(n));
        break;
    case CMARK_NODE_ITEM:
        b->kind = KILN_BL_ITEM;
        b->children = convert_blocks(L, cmark_node_first_child(n));
        break;
    case CMARK_NODE_CODE_BLOCK: {
        const char *info = cmark_node_get_fence_info(n);
        while (info && isspace((unsigned char)*info)) info++;
        if (info && info[0] == '{') {
            b->kind = KILN_BL_DIRECTIVE;
            b->directive = parse_directive(L, info, cmark_node_get_literal(n), b->line);
            if (!b->directive) return NULL;
        } else {
            b->kind = KILN_BL_CODE;
            b->text = ka_strdup(L->a, cmark_node_get_literal(n));
            b->info = ka_strdup(L->a, info);
        }
        break;
    }
    case CMARK_NODE_HTML_BLOCK:
        b->kind = KILN_BL_HTML;
        b->text = ka_strdup(L->a, cmark_node_get_literal(n));
        if (!L->o->allow_html)
            kd_warn(L->d, L->file, b->line, "a raw HTML block is left out (pass --allow-html to keep it)");
        break;
    case CMARK_NODE_THEMATIC_BREAK:
        b->kind = KILN_BL_RULE;
        break;
    default:
        return NULL;
    }
    return b;
}

static kiln_block *convert_blocks(loader *L, cmark_node *first)
{
    kiln_block *head = NULL, *tail = NULL;
    for (cmark_node *n = first; n; n = cmark_node_next(n)) {
        kiln_block *b = convert_block(L, n);
        if (!b) continue;
        if (tail) tail->next = b;
        else head = b;
        tail = b;
    }
    return head;
}

/* ---- one file --------------------------------------------------------------------------- */

kiln_block *parse_markdown(loader *L, const char *file, const char *text, size_t len)
{
    L->file = file;
    L->n_anchors = 0;
    cmark_node *root = cmark_parse_document(text, len, CMARK_OPT_SMART | CMARK_OPT_VALIDATE_UTF8);
    kiln_block *blocks = convert_blocks(L, cmark_node_first_child(root));
    cmark_node_free(root);
    return blocks;
}

const char *first_h1(kiln_block *b, kiln_block **h)
{
    for (; b; b = b->next)
        if (b->kind == KILN_BL_HEADING && b->level == 1) {
            *h = b;
            sbuf t = {0};
            plain_text(&t, b->inlines);
            return t.s ? t.s : strdup("");
        }
    *h = NULL;
    return NULL;
}
