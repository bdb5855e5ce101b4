"""Reference solutions of the stretch exercises that have tests (harness/stretch/):
edits to a copy of the reference lesson, in the form of grading/mutants.py. Never
handed out. test_course.py applies each to a copy and checks that its stretch
test passes there, and fails on the plain reference (so the test can fail)."""

from collections import namedtuple

Solution = namedtuple("Solution", "name lesson edits test")

ASID_REFRESH = '''/* ASIDs by generation, as Linux does it: a process takes an ASID when it is
 * switched to with a stale generation. When none is left, a new generation begins:
 * the whole TLB is flushed (no entry of the old numbering survives) and every
 * process takes a fresh ASID at its next switch. IRQs are masked (the scheduler). */
static u32 asid_generation = 1, next_asid = 1;

static void asid_refresh(struct proc *p)
{
    if (p->asid_gen == asid_generation)
        return;
    if (next_asid > ASID_MAX) {
        asid_generation++;
        next_asid = 1;
        tlb_invalidate_all();
    }
    p->as.asid = next_asid++;
    p->asid_gen = asid_generation;
}
'''

SOLUTIONS = [
    Solution("asid-generations", "10-processes", [
        ("proc.h", "    u32 l1_pa;                      /* its 8 KB L1 table (TTBR0) */\n",
         "    u32 l1_pa;                      /* its 8 KB L1 table (TTBR0) */\n"
         "    u32 asid_gen;                   /* the generation its ASID is from */\n"),
        ("proc.c", "static u8 asid_used[ASID_MAX + 1];\n", ""),
        ("proc.c", "static int asid_alloc(void)\n"
                   "{\n"
                   "    for (int a = 1; a <= ASID_MAX; a++)\n"
                   "        if (!asid_used[a]) {\n"
                   "            asid_used[a] = 1;\n", "#if 0\n"
                   "static int asid_alloc(void)\n"
                   "{\n"
                   "    for (int a = 1; a <= ASID_MAX; a++)\n"
                   "        if (!asid_used[a]) {\n"
                   "            asid_used[a] = 1;\n"),
        ("proc.c", "            return a;\n        }\n    return -1;\n}\n",
         "            return a;\n        }\n    return -1;\n}\n#endif\n" + ASID_REFRESH),
        ("proc.c", "    asid_used[p->as.asid] = 0;\n", ""),
        ("proc.c", "        n += !asid_used[a];\n",
         "        n += a >= (int)next_asid;      /* not handed out in this generation */\n"),
        ("proc.c", "    int asid, err, tid;\n", "    int err, tid;\n"),
        ("proc.c", "    if (!p || (asid = asid_alloc()) < 0) {\n", "    if (!p) {\n"),
        ("proc.c", "    if ((err = as_create(p, asid)) != 0) {\n        asid_used[asid] = 0;\n",
         "    if ((err = as_create(p, 0)) != 0) {\n"),
        ("proc.c", "    u32 ttbr0 = p ? p->l1_pa : KERNEL_VIRT_TO_PHYS(user_l1);\n",
         "    u32 ttbr0 = p ? p->l1_pa : KERNEL_VIRT_TO_PHYS(user_l1);\n\n"
         "    if (p)\n        asid_refresh(p);\n"),
    ], "stretch/test_10_asid_generations.py"),
]
