/* The compiled twin of rxgateway.protocol.envelope.probe_dispatch.
 *
 * An optional part of the package: the build compiles it where a C compiler is at
 * hand (see hatch_build.py), and rxgateway.protocol.envelope uses the pure-Python
 * probe wherever it is missing or RXGATEWAY_NO_EXTENSIONS is set. Both answer alike
 * for every input; tests/protocol/test_cprobe.py holds them to that.
 *
 * DispatchProbe(names) takes a snapshot of a dict {raw name: value} and its method
 * probe(data) reads a payload that begins {"t":"NAME","s":N,"op":0,"d": exactly:
 * NAME 1 to 64 bytes of [A-Z0-9_] and a key of the snapshot, N an integer of 1 to 18
 * digits without a leading zero. It returns (value, N) for such a payload and None
 * for anything else: the answers of the anchored regex DISPATCH_HEAD, a dict lookup
 * and int() in one C call, with no object made on the way but the answer.
 *
 * EventMaker(cls, names) is the receive path's other step in C: a callable that builds
 * an instance of cls from as many arguments as names, each stored in the slot of that
 * name, without running cls.__init__. rxgateway.events.base.dispatch_maker makes one
 * only for a class whose __init__ stores exactly those arguments in those slots, so
 * the object is the one cls(...) builds; tests/protocol/test_event_maker.py holds it to that.
 *
 * Lane(probe, cls, slots, loads) is the shard machine's dispatch lane
 * (ShardMachine.on_message after the inflate) in one call: read(machine, payload)
 * probes the payload, drops a duplicate, tests the wanted set, parses a wanted
 * dispatch with loads, and moves the sequence, the accepted count and the tap, on the
 * machine's own slots, found by name once. It answers what the Python lane answers, or
 * NotImplemented for what it leaves to the general lane; tests/protocol/test_lane.py
 * and every machine test (tests/machine/conftest.py) hold it to that.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h> /* T_OBJECT_EX, READONLY */
#include <stddef.h>
#include <string.h>

#define MAX_NAME 64
#define MAX_DIGITS 18

static const char HEAD[] = "{\"t\":\"";         /* then NAME */
static const char MIDDLE[] = "\",\"s\":";       /* then N */
static const char TAIL[] = ",\"op\":0,\"d\":";  /* then d */
#define HEAD_LEN (sizeof(HEAD) - 1)
#define MIDDLE_LEN (sizeof(MIDDLE) - 1)
#define TAIL_LEN (sizeof(TAIL) - 1)

typedef struct {
    Py_ssize_t len;  /* 0: an empty slot */
    char name[MAX_NAME];
    PyObject *value;
} Slot;

typedef struct {
    PyObject_HEAD
    Slot *table;
    size_t mask;  /* slots - 1; slots is a power of two, at least twice the names */
    Py_ssize_t count;
} ProbeObject;

/* 1 for the bytes a name is made of, A-Z, 0-9 and _ (filled in by the module's init). */
static unsigned char NAME_BYTE[256];

static inline int
is_name_byte(unsigned char c)
{
    return NAME_BYTE[c];
}

/* FNV-1a, one byte at a time: the names are short, few and fixed. */
#define HASH_START ((size_t)14695981039346656037ULL)
#define HASH_STEP(h, c) (((h) ^ (c)) * (size_t)1099511628211ULL)

static inline size_t
hash_name(const unsigned char *s, Py_ssize_t len)
{
    size_t h = HASH_START;
    for (Py_ssize_t i = 0; i < len; i++) {
        h = HASH_STEP(h, s[i]);
    }
    return h;
}

static int
probe_traverse(ProbeObject *self, visitproc visit, void *arg)
{
    if (self->table != NULL) {
        for (size_t i = 0; i <= self->mask; i++) {
            Py_VISIT(self->table[i].value);
        }
    }
    return 0;
}

static int
probe_clear(ProbeObject *self)
{
    if (self->table != NULL) {
        for (size_t i = 0; i <= self->mask; i++) {
            Py_CLEAR(self->table[i].value);
        }
    }
    return 0;
}

static void
probe_dealloc(ProbeObject *self)
{
    PyObject_GC_UnTrack(self);
    probe_clear(self);
    PyMem_Free(self->table);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
probe_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *names;
    static char *keywords[] = {"names", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!:DispatchProbe", keywords, &PyDict_Type, &names)) {
        return NULL;
    }
    Py_ssize_t count = PyDict_GET_SIZE(names);
    size_t slots = 8;
    while (slots < (size_t)count * 2) {
        slots <<= 1;
    }
    ProbeObject *self = (ProbeObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->table = PyMem_Calloc(slots, sizeof(Slot));
    if (self->table == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->mask = slots - 1;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(names, &pos, &key, &value)) {
        if (!PyBytes_Check(key)) {
            PyErr_Format(PyExc_TypeError, "DispatchProbe: a name must be bytes, not %.100s", Py_TYPE(key)->tp_name);
            Py_DECREF(self);
            return NULL;
        }
        const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(key);
        Py_ssize_t len = PyBytes_GET_SIZE(key);
        int valid = len >= 1 && len <= MAX_NAME;
        for (Py_ssize_t i = 0; valid && i < len; i++) {
            valid = is_name_byte(s[i]);
        }
        if (!valid) {
            /* Such a key can never be read from a payload: the pure probe's regex does
             * not match it either. Refused, so a table that cannot work is found out. */
            PyErr_SetString(PyExc_ValueError, "DispatchProbe: a name is 1 to 64 bytes of A-Z, 0-9 and _");
            Py_DECREF(self);
            return NULL;
        }
        size_t i = hash_name(s, len) & self->mask;
        while (self->table[i].len != 0) {
            i = (i + 1) & self->mask;
        }
        self->table[i].len = len;
        memcpy(self->table[i].name, s, (size_t)len);
        Py_INCREF(value);
        self->table[i].value = value;
        self->count++;
    }
    return (PyObject *)self;
}

/* The table's slot of the dispatch payload p[0:n] is in the gateway's own layout and
 * names, with its sequence in *seq; NULL for anything else. Makes no object. */
static Slot *
probe_find(ProbeObject *self, const unsigned char *p, Py_ssize_t n, long long *seq)
{
    if (n < (Py_ssize_t)(HEAD_LEN + 1 + MIDDLE_LEN + 1 + TAIL_LEN) || memcmp(p, HEAD, HEAD_LEN) != 0) {
        return NULL;
    }
    const unsigned char *name = p + HEAD_LEN;
    const unsigned char *end = p + n;
    /* Read at most one byte past the longest name: a 65th name byte is a mismatch. */
    const unsigned char *stop = end - name > MAX_NAME + 1 ? name + MAX_NAME + 1 : end;
    const unsigned char *q = name;
    size_t hash = HASH_START;
    while (q < stop && is_name_byte(*q)) {
        hash = HASH_STEP(hash, *q);
        q++;
    }
    Py_ssize_t len = q - name;
    if (len == 0 || len > MAX_NAME || end - q < (Py_ssize_t)(MIDDLE_LEN + 1 + TAIL_LEN)
        || memcmp(q, MIDDLE, MIDDLE_LEN) != 0) {
        return NULL;
    }
    q += MIDDLE_LEN;
    if (*q < '1' || *q > '9') {
        return NULL;
    }
    long long number = 0;
    const unsigned char *digits = q;
    while (q < end && q - digits < MAX_DIGITS && *q >= '0' && *q <= '9') {
        number = number * 10 + (*q - '0');
        q++;
    }
    if (end - q < (Py_ssize_t)TAIL_LEN || memcmp(q, TAIL, TAIL_LEN) != 0) {
        return NULL;
    }
    size_t i = hash & self->mask;
    for (;;) {
        Slot *slot = &self->table[i];
        if (slot->len == 0) {
            return NULL;
        }
        if (slot->len == len && memcmp(slot->name, name, (size_t)len) == 0) {
            *seq = number;
            return slot;
        }
        i = (i + 1) & self->mask;
    }
}

static PyObject *
probe_read(ProbeObject *self, const unsigned char *p, Py_ssize_t n)
{
    long long seq;
    Slot *slot = probe_find(self, p, n, &seq);
    if (slot == NULL) {
        Py_RETURN_NONE;
    }
    PyObject *number = PyLong_FromLongLong(seq);
    if (number == NULL) {
        return NULL;
    }
    PyObject *answer = PyTuple_New(2);
    if (answer == NULL) {
        Py_DECREF(number);
        return NULL;
    }
    Py_INCREF(slot->value);
    PyTuple_SET_ITEM(answer, 0, slot->value);
    PyTuple_SET_ITEM(answer, 1, number);
    return answer;
}

static PyObject *
probe_probe(ProbeObject *self, PyObject *data)
{
    if (PyBytes_Check(data)) {
        return probe_read(self, (const unsigned char *)PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data));
    }
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) != 0) {
        PyErr_Clear();
        return PyErr_Format(PyExc_TypeError, "probe takes bytes, not %.100s", Py_TYPE(data)->tp_name);
    }
    PyObject *answer = probe_read(self, (const unsigned char *)view.buf, view.len);
    PyBuffer_Release(&view);
    return answer;
}

static PyMethodDef probe_methods[] = {
    {"probe", (PyCFunction)probe_probe, METH_O,
     "probe(data, /)\n--\n\n"
     "(value, sequence) for a dispatch in the gateway's own layout whose name is known, else None."},
    {NULL, NULL, 0, NULL},
};

static Py_ssize_t
probe_length(ProbeObject *self)
{
    return self->count;
}

static PySequenceMethods probe_as_sequence = {
    .sq_length = (lenfunc)probe_length,
};

static PyTypeObject ProbeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "rxgateway.protocol._cprobe.DispatchProbe",
    .tp_basicsize = sizeof(ProbeObject),
    .tp_dealloc = (destructor)probe_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "DispatchProbe(names)\n--\n\n"
              "A snapshot of names ({raw name: value}) and a probe(data) that reads a "
              "dispatch in the gateway's own layout in one call.",
    .tp_traverse = (traverseproc)probe_traverse,
    .tp_clear = (inquiry)probe_clear,
    .tp_methods = probe_methods,
    .tp_as_sequence = &probe_as_sequence,
    .tp_new = probe_new,
};

/* ---------------------------------------------------------------- EventMaker */

/* offsets[i] = the offset of the writable object slot names[i] of cls, for each of the
 * tuple names; -1 with TypeError (or AttributeError) set if one is not such a slot. */
static int
object_slots(PyTypeObject *cls, PyObject *names, Py_ssize_t *offsets, const char *who)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names); i++) {
        PyObject *name = PyTuple_GET_ITEM(names, i);
        PyObject *descr = PyObject_GetAttr((PyObject *)cls, name);
        if (descr == NULL) {
            return -1;
        }
        int usable = Py_IS_TYPE(descr, &PyMemberDescr_Type)
                     && ((PyMemberDescrObject *)descr)->d_member->type == T_OBJECT_EX
                     && !(((PyMemberDescrObject *)descr)->d_member->flags & READONLY)
                     && PyType_IsSubtype(cls, PyDescr_TYPE(descr));
        offsets[i] = usable ? ((PyMemberDescrObject *)descr)->d_member->offset : -1;
        Py_DECREF(descr);
        if (!usable) {
            PyErr_Format(PyExc_TypeError, "%s: %R is not a slot of %.100s", who, name, cls->tp_name);
            return -1;
        }
    }
    return 0;
}

#define MAX_FIELDS 8

typedef struct {
    PyObject_HEAD
    PyTypeObject *cls;
    Py_ssize_t count;
    Py_ssize_t offsets[MAX_FIELDS];
    vectorcallfunc vectorcall;
} MakerObject;

static PyObject *
maker_call(MakerObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs != self->count || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0)) {
        return PyErr_Format(PyExc_TypeError, "EventMaker for %.100s takes %zd positional arguments",
                            self->cls->tp_name, self->count);
    }
    PyObject *obj = self->cls->tp_alloc(self->cls, 0);
    if (obj == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) {
        PyObject **slot = (PyObject **)((char *)obj + self->offsets[i]);
        Py_INCREF(args[i]);
        Py_XSETREF(*slot, args[i]);
    }
    return obj;
}

static int
maker_traverse(MakerObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->cls);
    return 0;
}

static int
maker_clear(MakerObject *self)
{
    Py_CLEAR(self->cls);
    return 0;
}

/* The dealloc of a type whose tp_clear drops every reference it holds. */
static void
cleared_dealloc(PyObject *self)
{
    PyObject_GC_UnTrack(self);
    Py_TYPE(self)->tp_clear(self);
    Py_TYPE(self)->tp_free(self);
}

static PyObject *
maker_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyTypeObject *cls;
    PyObject *names;
    static char *keywords[] = {"cls", "names", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!:EventMaker", keywords, &PyType_Type, &cls, &PyTuple_Type,
                                     &names)) {
        return NULL;
    }
    Py_ssize_t count = PyTuple_GET_SIZE(names);
    if (count < 1 || count > MAX_FIELDS) {
        return PyErr_Format(PyExc_ValueError, "EventMaker: 1 to %d names", MAX_FIELDS);
    }
    /* Only what object() itself would allocate: no __new__ of the class's own skipped. */
    if (cls->tp_new != PyBaseObject_Type.tp_new) {
        return PyErr_Format(PyExc_TypeError, "EventMaker: %.100s has its own __new__", cls->tp_name);
    }
    MakerObject *self = (MakerObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    if (object_slots(cls, names, self->offsets, "EventMaker") < 0) {
        Py_DECREF(self);
        return NULL;
    }
    Py_INCREF(cls);
    self->cls = cls;
    self->count = count;
    self->vectorcall = (vectorcallfunc)maker_call;
    return (PyObject *)self;
}

static PyObject *
maker_get_cls(MakerObject *self, void *closure)
{
    return Py_NewRef(self->cls);
}

static PyGetSetDef maker_getset[] = {
    {"cls", (getter)maker_get_cls, NULL, "The class this maker builds.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject MakerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "rxgateway.protocol._cprobe.EventMaker",
    .tp_basicsize = sizeof(MakerObject),
    .tp_dealloc = cleared_dealloc,
    .tp_vectorcall_offset = offsetof(MakerObject, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "EventMaker(cls, names)\n--\n\n"
              "A callable that builds an instance of cls from len(names) positional "
              "arguments, each stored in the slot of that name, without calling __init__.",
    .tp_traverse = (traverseproc)maker_traverse,
    .tp_clear = (inquiry)maker_clear,
    .tp_getset = maker_getset,
    .tp_new = maker_new,
};

/* ---------------------------------------------------------------------- Lane */

/* The five slots of the machine a Lane reads and writes, in the order Lane takes their
 * names: the last sequence (None or an int), the wanted values (a set), the accepted
 * dispatches and the duplicates dropped (ints), and the tap (None or a callable). */
enum { LANE_SEQUENCE, LANE_WANTED, LANE_ACCEPTED, LANE_DUPLICATES, LANE_TAP, LANE_SLOTS };

typedef struct {
    PyObject_HEAD
    ProbeObject *probe;
    PyTypeObject *cls;
    PyObject *loads;
    Py_ssize_t offsets[LANE_SLOTS];
} LaneObject;

static PyObject *D_KEY; /* "d", interned */
static PyObject *ONE;   /* 1 */

static inline PyObject **
lane_slot(LaneObject *self, PyObject *machine, int which)
{
    return (PyObject **)((char *)machine + self->offsets[which]);
}

/* slot += 1 for an int slot; -1 with an exception set on failure. */
static int
lane_count(LaneObject *self, PyObject *machine, int which)
{
    PyObject **slot = lane_slot(self, machine, which);
    if (*slot == NULL) {
        PyErr_SetString(PyExc_AttributeError, "Lane: a counter of the machine is not set");
        return -1;
    }
    PyObject *more = PyNumber_Add(*slot, ONE);
    if (more == NULL) {
        return -1;
    }
    Py_SETREF(*slot, more);
    return 0;
}

/* A dispatch accepted: the sequence moves to number (a new reference, stolen), the
 * count goes up, and the tap, if any, gets the payload. */
static int
lane_accept(LaneObject *self, PyObject *machine, PyObject *number, PyObject *payload)
{
    Py_XSETREF(*lane_slot(self, machine, LANE_SEQUENCE), number);
    if (lane_count(self, machine, LANE_ACCEPTED) < 0) {
        return -1;
    }
    PyObject *tap = *lane_slot(self, machine, LANE_TAP);
    if (tap != NULL && tap != Py_None) {
        Py_INCREF(tap); /* the tap may replace itself */
        PyObject *done = PyObject_CallOneArg(tap, payload);
        Py_DECREF(tap);
        if (done == NULL) {
            return -1;
        }
        Py_DECREF(done);
    }
    return 0;
}

static PyObject *
lane_read(LaneObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        return PyErr_Format(PyExc_TypeError, "read takes 2 arguments (machine, payload), not %zd", nargs);
    }
    PyObject *machine = args[0], *payload = args[1];
    if (!PyObject_TypeCheck(machine, self->cls)) {
        return PyErr_Format(PyExc_TypeError, "read: a %.100s, not %.100s", self->cls->tp_name,
                            Py_TYPE(machine)->tp_name);
    }
    long long seq;
    Slot *found = PyBytes_CheckExact(payload)
        ? probe_find(self->probe, (const unsigned char *)PyBytes_AS_STRING(payload), PyBytes_GET_SIZE(payload), &seq)
        : NULL;
    if (found == NULL) {
        Py_RETURN_NOTIMPLEMENTED; /* not the gateway's layout and names: the general lane's */
    }
    PyObject *last = *lane_slot(self, machine, LANE_SEQUENCE);
    PyObject *wanted = *lane_slot(self, machine, LANE_WANTED);
    if (last == NULL || wanted == NULL) {
        PyErr_SetString(PyExc_AttributeError, "Lane: the machine's sequence or wanted set is not set");
        return NULL;
    }
    if (last != Py_None) {
        if (!PyLong_Check(last)) {
            return PyErr_Format(PyExc_TypeError, "Lane: the sequence is a %.100s", Py_TYPE(last)->tp_name);
        }
        int overflow;
        long long before = PyLong_AsLongLongAndOverflow(last, &overflow);
        if (before == -1 && !overflow && PyErr_Occurred()) {
            return NULL;
        }
        if (overflow > 0 || (overflow == 0 && seq <= before)) { /* delivered already */
            if (lane_count(self, machine, LANE_DUPLICATES) < 0) {
                return NULL;
            }
            Py_RETURN_NONE;
        }
    }
    if (!PyAnySet_Check(wanted)) {
        return PyErr_Format(PyExc_TypeError, "Lane: the wanted values are a %.100s", Py_TYPE(wanted)->tp_name);
    }
    int want = PySet_Contains(wanted, found->value);
    if (want < 0) {
        return NULL;
    }
    PyObject *name = found->value;
    Py_INCREF(name); /* held across the calls below */
    PyObject *d = NULL;
    if (want) { /* parsed before the sequence moves */
        PyObject *parsed = PyObject_CallOneArg(self->loads, payload);
        if (parsed == NULL) {
            Py_DECREF(name);
            if (PyErr_ExceptionMatches(PyExc_ValueError)) { /* not JSON: the general lane reports it */
                PyErr_Clear();
                Py_RETURN_NOTIMPLEMENTED;
            }
            return NULL;
        }
        d = PyDict_CheckExact(parsed) ? PyDict_GetItemWithError(parsed, D_KEY) : NULL;
        Py_XINCREF(d);
        Py_DECREF(parsed);
        if (d == NULL) {
            Py_DECREF(name);
            if (PyErr_Occurred()) {
                return NULL;
            }
            Py_RETURN_NOTIMPLEMENTED;
        }
    }
    PyObject *number = PyLong_FromLongLong(seq);
    if (number == NULL) {
        Py_DECREF(name);
        Py_XDECREF(d);
        return NULL;
    }
    Py_INCREF(number); /* one for the machine, one for the answer */
    if (lane_accept(self, machine, number, payload) < 0) {
        Py_DECREF(number);
        Py_DECREF(name);
        Py_XDECREF(d);
        return NULL;
    }
    if (!want) {
        Py_DECREF(number);
        Py_DECREF(name);
        Py_RETURN_NONE;
    }
    PyObject *answer = PyTuple_New(3);
    if (answer == NULL) {
        Py_DECREF(number);
        Py_DECREF(name);
        Py_DECREF(d);
        return NULL;
    }
    PyTuple_SET_ITEM(answer, 0, number);
    PyTuple_SET_ITEM(answer, 1, name);
    PyTuple_SET_ITEM(answer, 2, d);
    return answer;
}

static int
lane_traverse(LaneObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->probe);
    Py_VISIT(self->cls);
    Py_VISIT(self->loads);
    return 0;
}

static int
lane_clear(LaneObject *self)
{
    Py_CLEAR(self->probe);
    Py_CLEAR(self->cls);
    Py_CLEAR(self->loads);
    return 0;
}

static PyObject *
lane_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *probe, *slots, *loads;
    PyTypeObject *cls;
    static char *keywords[] = {"probe", "cls", "slots", "loads", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!O!O:Lane", keywords, &ProbeType, &probe, &PyType_Type, &cls,
                                     &PyTuple_Type, &slots, &loads)) {
        return NULL;
    }
    if (PyTuple_GET_SIZE(slots) != LANE_SLOTS) {
        return PyErr_Format(PyExc_ValueError, "Lane: %d slot names (sequence, wanted, accepted, duplicates, tap)",
                            LANE_SLOTS);
    }
    if (!PyCallable_Check(loads)) {
        return PyErr_Format(PyExc_TypeError, "Lane: loads is a %.100s, not a callable", Py_TYPE(loads)->tp_name);
    }
    LaneObject *self = (LaneObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    if (object_slots(cls, slots, self->offsets, "Lane") < 0) {
        Py_DECREF(self);
        return NULL;
    }
    self->probe = (ProbeObject *)Py_NewRef(probe);
    self->cls = (PyTypeObject *)Py_NewRef(cls);
    self->loads = Py_NewRef(loads);
    return (PyObject *)self;
}

static PyMethodDef lane_methods[] = {
    {"read", (PyCFunction)(void (*)(void))lane_read, METH_FASTCALL,
     "read(machine, payload, /)\n--\n\n"
     "The dispatch lane of the machine for one payload: (sequence, value, d) for a wanted "
     "dispatch, None for an unwanted or duplicate one, NotImplemented for anything else."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject LaneType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "rxgateway.protocol._cprobe.Lane",
    .tp_basicsize = sizeof(LaneObject),
    .tp_dealloc = cleared_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Lane(probe, cls, slots, loads)\n--\n\n"
              "The shard machine's dispatch lane in one call: probe, duplicate test, wanted "
              "test, parse, and the sequence, count and tap, on the slots of a cls instance.",
    .tp_traverse = (traverseproc)lane_traverse,
    .tp_clear = (inquiry)lane_clear,
    .tp_methods = lane_methods,
    .tp_new = lane_new,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "rxgateway.protocol._cprobe",
    .m_doc = "The compiled dispatch probe, event maker and machine lane (optional; see rxgateway.protocol.envelope, rxgateway.events.base and rxgateway.machine.shard_machine).",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__cprobe(void)
{
    for (int c = 0; c < 256; c++) {
        NAME_BYTE[c] = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    }
    if (PyType_Ready(&ProbeType) < 0 || PyType_Ready(&MakerType) < 0 || PyType_Ready(&LaneType) < 0) {
        return NULL;
    }
    if (D_KEY == NULL && (D_KEY = PyUnicode_InternFromString("d")) == NULL) {
        return NULL;
    }
    if (ONE == NULL && (ONE = PyLong_FromLong(1)) == NULL) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    Py_INCREF(&ProbeType);
    if (PyModule_AddObject(m, "DispatchProbe", (PyObject *)&ProbeType) < 0) {
        Py_DECREF(&ProbeType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&MakerType);
    if (PyModule_AddObject(m, "EventMaker", (PyObject *)&MakerType) < 0) {
        Py_DECREF(&MakerType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&LaneType);
    if (PyModule_AddObject(m, "Lane", (PyObject *)&LaneType) < 0) {
        Py_DECREF(&LaneType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
