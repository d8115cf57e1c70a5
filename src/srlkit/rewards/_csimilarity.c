/*
 * _csimilarity: difflib.SequenceMatcher(None, a, b, autojunk).ratio() for str, in C.
 *
 * Why: the SRL reward is this ratio, computed for every rollout; difflib spends most of its
 * time in dict look-ups inside find_longest_match. This file reproduces difflib's algorithm
 * step for step (same b2j index, same "popular" rule, same scan order and tie-breaking, same
 * extension loops, same recursion) on arrays of code points, so the number of matching
 * characters M, and therefore 2.0 * M / (len(a) + len(b)), is bit-identical.
 *
 * Correspondence with Lib/difflib.py (isjunk is always None here, so bjunk is empty and the
 * two junk-extension loops of find_longest_match never run):
 *   __chain_b          -> set_b: b's alphabet gets dense ids (hash table); b2j is a CSR array
 *                         of positions per id; ids occurring more than len(b)//100 + 1 times
 *                         are "popular" and dropped when autojunk and len(b) >= 200.
 *   find_longest_match -> longest_match: the j2len / newj2len dicts become two arrays with
 *                         row stamps (an entry is present iff its stamp is the previous row's);
 *                         j ascends and "k > bestsize" is strict, as in difflib.
 *   get_matching_blocks-> matching_chars: the same explicit stack; only the sum of block
 *                         sizes is needed for ratio(), which sorting and merging do not change.
 *
 * The GIL is released while matching, so Python threads calling ratio_batch run in parallel.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef uint32_t cp_t;

typedef struct {
    Py_ssize_t cap_a, cap_b, cap_h, cap_stack;
    /* b side: the indexed sequence (difflib's b2j) */
    Py_ssize_t nb;
    cp_t *b;
    int32_t *bid;      /* alphabet id of b[j] */
    int32_t *count;    /* occurrences per id; reused as fill cursor */
    int32_t *start;    /* CSR offsets into pos, per id */
    int32_t *pos;      /* positions of each non-popular id, ascending */
    char *popular;     /* per id */
    cp_t *hkeys;       /* open-addressing table: code point -> id */
    int32_t *hvals;
    /* a side */
    Py_ssize_t na;
    cp_t *a;
    int32_t *aid;      /* id of a[i] in b's b2j, or -1 when absent or popular */
    /* j2len rows: value and stamp, two buffers alternating by row parity */
    int32_t *len[2];
    int64_t *stamp[2];
    int64_t counter;
    /* work done (rows scanned + b2j positions visited) and the budget (0: unlimited) */
    long long steps, max_steps;
    Py_ssize_t *stack; /* pending (alo, ahi, blo, bhi) quads */
} Work;

static void work_free(Work *w) {
    free(w->b); free(w->bid); free(w->count); free(w->start); free(w->pos); free(w->popular);
    free(w->hkeys); free(w->hvals); free(w->a); free(w->aid);
    free(w->len[0]); free(w->len[1]); free(w->stamp[0]); free(w->stamp[1]); free(w->stack);
    memset(w, 0, sizeof(*w));
}

#define GROW(ptr, n)                                               \
    do {                                                           \
        void *p_ = realloc((ptr), (size_t)(n) * sizeof(*(ptr)));   \
        if (!p_) return -1;                                        \
        (ptr) = p_;                                                \
    } while (0)

/* Make room for strings of na and nb code points. Returns -1 when out of memory. */
static int work_reserve(Work *w, Py_ssize_t na, Py_ssize_t nb) {
    if (nb > w->cap_b || w->b == NULL) {
        Py_ssize_t n = nb > 16 ? nb : 16;
        GROW(w->b, n); GROW(w->bid, n); GROW(w->pos, n);
        GROW(w->count, n + 1); GROW(w->start, n + 2); GROW(w->popular, n + 1);
        for (int r = 0; r < 2; r++) {
            GROW(w->len[r], n);
            GROW(w->stamp[r], n);
            memset(w->stamp[r], 0, (size_t)n * sizeof(int64_t)); /* stamps stay below counter */
        }
        Py_ssize_t h = 32;
        while (h < 2 * n) h <<= 1;
        GROW(w->hkeys, h); GROW(w->hvals, h);
        w->cap_h = h;
        w->cap_b = n;
    }
    if (na > w->cap_a || w->a == NULL) {
        Py_ssize_t n = na > 16 ? na : 16;
        GROW(w->a, n); GROW(w->aid, n);
        w->cap_a = n;
    }
    /* Each popped range pushes at most two and at most min(na, nb) ranges hold a match, so
     * no more than min(na, nb) + 1 ranges are ever pending. */
    Py_ssize_t m = (na < nb ? na : nb) + 2;
    if (m > w->cap_stack || w->stack == NULL) {
        GROW(w->stack, 4 * m);
        w->cap_stack = m;
    }
    return 0;
}

static inline size_t hash_cp(cp_t c, size_t mask) {
    return ((size_t)c * 2654435761u) & mask;
}

/* difflib's __chain_b for w->b[0:nb]: alphabet ids, popular ids, positions per id. */
static void set_b(Work *w, Py_ssize_t nb, int autojunk) {
    size_t mask = (size_t)w->cap_h - 1;
    int32_t nid = 0;
    w->nb = nb;
    memset(w->hvals, 0xff, (size_t)w->cap_h * sizeof(int32_t)); /* all -1: empty */
    for (Py_ssize_t j = 0; j < nb; j++) {
        cp_t c = w->b[j];
        size_t h = hash_cp(c, mask);
        while (w->hvals[h] != -1 && w->hkeys[h] != c) h = (h + 1) & mask;
        if (w->hvals[h] == -1) {
            w->hkeys[h] = c;
            w->hvals[h] = nid;
            w->count[nid++] = 0;
        }
        w->bid[j] = w->hvals[h];
        w->count[w->hvals[h]]++;
    }
    int check_popular = autojunk && nb >= 200;
    Py_ssize_t ntest = nb / 100 + 1;
    w->start[0] = 0;
    for (int32_t id = 0; id < nid; id++) {
        w->popular[id] = (char)(check_popular && w->count[id] > ntest);
        w->start[id + 1] = w->start[id] + (w->popular[id] ? 0 : w->count[id]);
        w->count[id] = w->start[id]; /* becomes the fill cursor */
    }
    for (Py_ssize_t j = 0; j < nb; j++) {
        int32_t id = w->bid[j];
        if (!w->popular[id]) w->pos[w->count[id]++] = (int32_t)j;
    }
}

/* Map a's code points to b's ids (-1: never starts a match, as b2j.get(a[i], nothing)). */
static void set_a(Work *w, Py_ssize_t na) {
    size_t mask = (size_t)w->cap_h - 1;
    w->na = na;
    for (Py_ssize_t i = 0; i < na; i++) {
        cp_t c = w->a[i];
        size_t h = hash_cp(c, mask);
        while (w->hvals[h] != -1 && w->hkeys[h] != c) h = (h + 1) & mask;
        int32_t id = w->hvals[h];
        w->aid[i] = (id >= 0 && !w->popular[id]) ? id : -1;
    }
}

/* difflib's find_longest_match(alo, ahi, blo, bhi), writing (i, j, k) to out. */
static void longest_match(Work *w, Py_ssize_t alo, Py_ssize_t ahi, Py_ssize_t blo,
                          Py_ssize_t bhi, Py_ssize_t *out) {
    Py_ssize_t besti = alo, bestj = blo, bestsize = 0;
    const cp_t *a = w->a, *b = w->b;
    int64_t s = w->counter + 2; /* this row's stamp; s - 1 marks the previous row */
    long long visited = ahi - alo;
    for (Py_ssize_t i = alo; i < ahi; i++, s++) {
        int32_t id = w->aid[i];
        if (id < 0) continue;
        int32_t *wlen = w->len[i & 1], *rlen = w->len[(i & 1) ^ 1];
        int64_t *wst = w->stamp[i & 1], *rst = w->stamp[(i & 1) ^ 1];
        const int32_t *p = w->pos + w->start[id], *pe = w->pos + w->start[id + 1];
        if (p < pe && *p < blo) { /* skip j < blo: first position >= blo */
            const int32_t *lo = p, *hi = pe;
            while (lo < hi) {
                const int32_t *mid = lo + (hi - lo) / 2;
                if (*mid < blo) lo = mid + 1; else hi = mid;
            }
            p = lo;
        }
        const int32_t *p0 = p;
        for (; p < pe; p++) {
            Py_ssize_t j = *p;
            if (j >= bhi) break;
            int32_t k = (j > 0 && rst[j - 1] == s - 1) ? rlen[j - 1] + 1 : 1;
            wlen[j] = k;
            wst[j] = s;
            if (k > bestsize) {
                besti = i - k + 1;
                bestj = j - k + 1;
                bestsize = k;
            }
        }
        visited += p - p0;
        if (w->max_steps > 0 && w->steps + visited > w->max_steps) break; /* caller stops */
    }
    w->counter = s;
    w->steps += visited;
    while (besti > alo && bestj > blo && a[besti - 1] == b[bestj - 1]) {
        besti--; bestj--; bestsize++;
    }
    while (besti + bestsize < ahi && bestj + bestsize < bhi &&
           a[besti + bestsize] == b[bestj + bestsize]) {
        bestsize++;
    }
    out[0] = besti; out[1] = bestj; out[2] = bestsize;
}

#define OVER_BUDGET (-2)

/* sum(size for (i, j, size) in get_matching_blocks()): M in ratio() = 2M / T.
 * OVER_BUDGET when w->max_steps > 0 and the work exceeded it: difflib's worst case is far
 * worse than quadratic (many one-character blocks, each found by a full scan), and a model
 * can write such an output on purpose; the budget keeps one call bounded. */
static Py_ssize_t matching_chars(Work *w, Py_ssize_t *blocks, Py_ssize_t *nblocks) {
    Py_ssize_t *st = w->stack, sp = 0, total = 0, m[3];
    st[0] = 0; st[1] = w->na; st[2] = 0; st[3] = w->nb; sp = 1;
    while (sp > 0) {
        sp--;
        Py_ssize_t alo = st[4 * sp], ahi = st[4 * sp + 1], blo = st[4 * sp + 2], bhi = st[4 * sp + 3];
        longest_match(w, alo, ahi, blo, bhi, m);
        if (w->max_steps > 0 && w->steps > w->max_steps) return OVER_BUDGET;
        Py_ssize_t i = m[0], j = m[1], k = m[2];
        if (k == 0) continue;
        total += k;
        if (blocks) { /* at most one block per character of a: the caller sized it */
            Py_ssize_t *out = blocks + 3 * (*nblocks)++;
            out[0] = i; out[1] = j; out[2] = k;
        }
        if (alo < i && blo < j) {
            st[4 * sp] = alo; st[4 * sp + 1] = i; st[4 * sp + 2] = blo; st[4 * sp + 3] = j; sp++;
        }
        if (i + k < ahi && j + k < bhi) {
            st[4 * sp] = i + k; st[4 * sp + 1] = ahi; st[4 * sp + 2] = j + k; st[4 * sp + 3] = bhi; sp++;
        }
    }
    return total;
}

static inline double ratio_of(Py_ssize_t matches, Py_ssize_t length) {
    /* difflib._calculate_ratio */
    return length ? 2.0 * (double)matches / (double)length : 1.0;
}

/* ---- Workspace pool ----------------------------------------------------------------------
 * Buffers are kept between calls: allocating them afresh costs more than matching short
 * strings, and large blocks come from mmap. A lock-protected stack of idle workspaces
 * (PyThread locks work without the GIL) gives each concurrent caller its own. */

#define POOL_SIZE 64
#define POOL_KEEP_MAX_CHARS (1 << 20) /* do not hoard buffers of huge one-off strings */

static Work *pool[POOL_SIZE];
static int pool_n = 0;
static PyThread_type_lock pool_lock = NULL;

static Work *work_take(void) {
    Work *w = NULL;
    PyThread_acquire_lock(pool_lock, WAIT_LOCK);
    if (pool_n > 0) w = pool[--pool_n];
    PyThread_release_lock(pool_lock);
    return w ? w : calloc(1, sizeof(Work));
}

static void work_give(Work *w) {
    if (!w) return;
    if (w->cap_a <= POOL_KEEP_MAX_CHARS && w->cap_b <= POOL_KEEP_MAX_CHARS) {
        PyThread_acquire_lock(pool_lock, WAIT_LOCK);
        if (pool_n < POOL_SIZE) {
            pool[pool_n++] = w;
            w = NULL;
        }
        PyThread_release_lock(pool_lock);
    }
    if (w) {
        work_free(w);
        free(w);
    }
}

/* ---- Python glue ------------------------------------------------------------------------ */

/* A str's code points, copied into a malloc'ed buffer so matching can run without the GIL. */
typedef struct {
    cp_t *data;
    Py_ssize_t n;
} Codes;

static int to_codes(PyObject *obj, const char *what, Py_ssize_t index, Codes *out) {
    if (!PyUnicode_Check(obj)) {
        if (index < 0)
            PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what, Py_TYPE(obj)->tp_name);
        else
            PyErr_Format(PyExc_TypeError, "%s[%zd] must be str, not %.100s", what, index,
                         Py_TYPE(obj)->tp_name);
        return -1;
    }
    Py_ssize_t n = PyUnicode_GetLength(obj);
    if (n > INT32_MAX - 4) {
        PyErr_Format(PyExc_OverflowError, "%s is too long (%zd code points)", what, n);
        return -1;
    }
    out->n = n;
    out->data = malloc((size_t)(n > 0 ? n : 1) * sizeof(cp_t));
    if (!out->data) {
        PyErr_NoMemory();
        return -1;
    }
    if (n > 0 && !PyUnicode_AsUCS4(obj, out->data, n, 0)) {
        free(out->data);
        out->data = NULL;
        return -1;
    }
    return 0;
}

/* Match one pair with the b side possibly already indexed (same_b): M, OVER_BUDGET, or -1 on
 * out of memory. */
static Py_ssize_t match_pair(Work *w, const Codes *a, const Codes *b, int autojunk, int same_b,
                             long long max_steps, Py_ssize_t *blocks, Py_ssize_t *nblocks) {
    if (work_reserve(w, a->n, b->n) < 0) return -1;
    w->steps = 0;
    w->max_steps = max_steps;
    if (!same_b) {
        memcpy(w->b, b->data, (size_t)b->n * sizeof(cp_t));
        set_b(w, b->n, autojunk);
    }
    memcpy(w->a, a->data, (size_t)a->n * sizeof(cp_t));
    set_a(w, a->n);
    return matching_chars(w, blocks, nblocks);
}

/* Shared body of ratio(), matches() and blocks(): M for one pair, OVER_BUDGET, or -1 with an
 * exception set. With blocks != NULL, *blocks gets a malloc'ed array of the (i, j, k) blocks in
 * the order they were found, *nblocks their number (the caller frees it). */
static Py_ssize_t pair_matches(PyObject *args, PyObject *kwargs, Py_ssize_t *length,
                               Py_ssize_t **blocks, Py_ssize_t *nblocks) {
    static char *kwlist[] = {"a", "b", "autojunk", "max_steps", NULL};
    PyObject *a_obj, *b_obj;
    int autojunk = 1;
    long long max_steps = 0;
    Codes a = {NULL, 0}, b = {NULL, 0};
    Py_ssize_t m;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|pL", kwlist, &a_obj, &b_obj, &autojunk,
                                     &max_steps))
        return -1;
    if (to_codes(a_obj, "a", -1, &a) < 0) return -1;
    if (to_codes(b_obj, "b", -1, &b) < 0) {
        free(a.data);
        return -1;
    }
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t *found = NULL;
    if (blocks) {
        *nblocks = 0;
        found = malloc((size_t)(a.n + 1) * 3 * sizeof(Py_ssize_t));
    }
    Work *w = (blocks && !found) ? NULL : work_take();
    m = w ? match_pair(w, &a, &b, autojunk, 0, max_steps, found, nblocks) : -1;
    work_give(w);
    if (blocks) *blocks = found;
    Py_END_ALLOW_THREADS
    free(a.data);
    free(b.data);
    if (m == -1) PyErr_NoMemory();
    *length = a.n + b.n;
    return m;
}

static PyObject *py_ratio(PyObject *Py_UNUSED(self), PyObject *args, PyObject *kwargs) {
    Py_ssize_t length, m = pair_matches(args, kwargs, &length, NULL, NULL);
    if (m == -1) return NULL;
    return PyFloat_FromDouble(m == OVER_BUDGET ? Py_NAN : ratio_of(m, length));
}

static PyObject *py_matches(PyObject *Py_UNUSED(self), PyObject *args, PyObject *kwargs) {
    Py_ssize_t length, m = pair_matches(args, kwargs, &length, NULL, NULL);
    if (m == -1) return NULL;
    if (m == OVER_BUDGET) Py_RETURN_NONE;
    return PyLong_FromSsize_t(m);
}

static PyObject *py_blocks(PyObject *Py_UNUSED(self), PyObject *args, PyObject *kwargs) {
    Py_ssize_t length, n = 0, *found = NULL;
    Py_ssize_t m = pair_matches(args, kwargs, &length, &found, &n);
    if (m == -1) {
        free(found);
        return NULL;
    }
    if (m == OVER_BUDGET) {
        free(found);
        Py_RETURN_NONE;
    }
    PyObject *list = PyList_New(n);
    for (Py_ssize_t i = 0; list && i < n; i++) {
        PyObject *t = Py_BuildValue("(nnn)", found[3 * i], found[3 * i + 1], found[3 * i + 2]);
        if (!t) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, t);
    }
    free(found);
    return list;
}

static void free_codes(Codes *codes, Py_ssize_t n) {
    if (!codes) return;
    for (Py_ssize_t i = 0; i < n; i++) free(codes[i].data);
    free(codes);
}

/* Copy every str of a sequence; also flags which entries equal their predecessor. */
static Codes *sequence_codes(PyObject *seq, const char *what, char *same_as_prev) {
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    Codes *codes = calloc((size_t)(n > 0 ? n : 1), sizeof(Codes));
    if (!codes) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (to_codes(item, what, i, &codes[i]) < 0) {
            free_codes(codes, i);
            return NULL;
        }
        if (same_as_prev) {
            int eq = 0;
            if (i > 0) {
                PyObject *prev = PySequence_Fast_GET_ITEM(seq, i - 1);
                eq = prev == item ? 1 : PyUnicode_Compare(prev, item) == 0;
            }
            same_as_prev[i] = (char)eq;
        }
    }
    return codes;
}

/* The GIL-free part of ratio_batch: out[i] for every pair; -1 when out of memory. */
static int ratios(const Codes *a, const Codes *b, const char *same, Py_ssize_t n, int autojunk,
                  long long max_steps, double *out) {
    Work *w = work_take();
    if (!w) return -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        /* G rollouts of one prompt share a reference: index it once. Growing the buffers
         * keeps their contents, so the b side stays valid when only a is longer. */
        Py_ssize_t m =
            match_pair(w, &a[i], &b[i], autojunk, i > 0 && same[i], max_steps, NULL, NULL);
        if (m == -1) {
            work_give(w);
            return -1;
        }
        out[i] = m == OVER_BUDGET ? Py_NAN : ratio_of(m, a[i].n + b[i].n);
    }
    work_give(w);
    return 0;
}

static PyObject *float_list(const double *values, Py_ssize_t n) {
    PyObject *list = PyList_New(n);
    for (Py_ssize_t i = 0; list && i < n; i++) {
        PyObject *f = PyFloat_FromDouble(values[i]);
        if (!f) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, f);
    }
    return list;
}

static PyObject *py_ratio_batch(PyObject *Py_UNUSED(self), PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"a", "b", "autojunk", "max_steps", NULL};
    PyObject *a_in, *b_in, *a_seq = NULL, *b_seq = NULL, *result = NULL;
    int autojunk = 1;
    long long max_steps = 0;
    Codes *a = NULL, *b = NULL;
    char *same = NULL;
    double *out = NULL;
    Py_ssize_t n, failed = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|pL", kwlist, &a_in, &b_in, &autojunk,
                                     &max_steps))
        return NULL;
    a_seq = PySequence_Fast(a_in, "a must be a sequence of str");
    b_seq = a_seq ? PySequence_Fast(b_in, "b must be a sequence of str") : NULL;
    if (!b_seq) goto done;
    n = PySequence_Fast_GET_SIZE(a_seq);
    if (PySequence_Fast_GET_SIZE(b_seq) != n) {
        PyErr_Format(PyExc_ValueError, "a has %zd strings but b has %zd", n,
                     PySequence_Fast_GET_SIZE(b_seq));
        goto done;
    }
    same = malloc((size_t)(n > 0 ? n : 1));
    out = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    if (!same || !out) {
        PyErr_NoMemory();
        goto done;
    }
    if (!(a = sequence_codes(a_seq, "a", NULL))) goto done;
    if (!(b = sequence_codes(b_seq, "b", same))) goto done;
    Py_BEGIN_ALLOW_THREADS
    failed = ratios(a, b, same, n, autojunk, max_steps, out) < 0;
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = float_list(out, n);
done:
    if (a_seq && a) free_codes(a, PySequence_Fast_GET_SIZE(a_seq));
    if (b_seq && b) free_codes(b, PySequence_Fast_GET_SIZE(b_seq));
    free(same);
    free(out);
    Py_XDECREF(a_seq);
    Py_XDECREF(b_seq);
    return result;
}

static PyMethodDef methods[] = {
    {"ratio", (PyCFunction)(void (*)(void))py_ratio, METH_VARARGS | METH_KEYWORDS,
     "ratio(a, b, autojunk=True, max_steps=0) -> float\n\n"
     "difflib.SequenceMatcher(None, a, b, autojunk=autojunk).ratio() for two str; NaN when\n"
     "max_steps > 0 and matching needed more steps (rows scanned + index entries visited)."},
    {"matches", (PyCFunction)(void (*)(void))py_matches, METH_VARARGS | METH_KEYWORDS,
     "matches(a, b, autojunk=True, max_steps=0) -> int | None\n\n"
     "Characters in SequenceMatcher(None, a, b, autojunk=autojunk).get_matching_blocks();\n"
     "None when over max_steps."},
    {"blocks", (PyCFunction)(void (*)(void))py_blocks, METH_VARARGS | METH_KEYWORDS,
     "blocks(a, b, autojunk=True, max_steps=0) -> list[tuple[int, int, int]] | None\n\n"
     "The (i, j, k) blocks whose sizes matches() sums, in the order found (unsorted, unmerged);\n"
     "None when over max_steps, exactly when matches() is None."},
    {"ratio_batch", (PyCFunction)(void (*)(void))py_ratio_batch, METH_VARARGS | METH_KEYWORDS,
     "ratio_batch(a, b, autojunk=True, max_steps=0) -> list[float]\n\n"
     "ratio(a[i], b[i], autojunk, max_steps) for every i, without the GIL; equal consecutive\n"
     "b[i] are indexed once."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_csimilarity",
    "difflib's SequenceMatcher ratio for str, bit-identical and without the GIL.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__csimilarity(void) {
    if (!pool_lock && !(pool_lock = PyThread_allocate_lock())) return PyErr_NoMemory();
    return PyModule_Create(&module);
}
