"""Peak summed RSS of weir's process tree, with and without the children that are still the
parent's vfork (same cmdline as their parent: cloned with CLONE_VM, before exec)."""
import os, sys, time, json
PAGE = os.sysconf("SC_PAGE_SIZE")
def procs():
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit(): continue
        try:
            stat = open(f"/proc/{d}/stat").read()
            fields = stat[stat.rindex(")")+2:].split()
            cmd = open(f"/proc/{d}/cmdline","rb").read().replace(b"\0",b" ").decode(errors="replace")[:160]
            out[int(d)] = (int(fields[1]), int(fields[21])*PAGE, cmd)
        except Exception: pass
    return out
best_all = (0,); best_dedup = (0,); end = time.time() + float(sys.argv[1]); n = 0; vforks = 0
while time.time() < end:
    ps = procs()
    roots = [p for p,(pp,r,c) in ps.items() if "weir run" in c and "--controllers" in c and ps.get(pp, (0,0,""))[2].find("weir run") < 0]
    if roots:
        n += 1
        tree = set(roots); changed = True
        while changed:
            changed = False
            for p,(pp,r,c) in ps.items():
                if pp in tree and p not in tree: tree.add(p); changed = True
        total = sum(ps[p][1] for p in tree)
        shared = [p for p in tree if p not in roots and ps[p][2] == ps[ps[p][0]][2]]
        vforks += bool(shared)
        dedup = total - sum(ps[p][1] for p in shared)
        t = time.strftime("%H:%M:%S")
        if total > best_all[0]:
            best_all = (total, t, [(p, round(ps[p][1]/2**20,1), ps[p][2][:80]) for p in tree])
        if dedup > best_dedup[0]:
            best_dedup = (dedup, t, [(p, round(ps[p][1]/2**20,1), ps[p][2][:80]) for p in tree if p not in shared])
        json.dump({"samples": n, "samples_with_vfork_child": vforks,
                   "peak_all_mib": round(best_all[0]/2**20,1), "peak_all": best_all,
                   "peak_without_vfork_children_mib": round(best_dedup[0]/2**20,1), "peak_dedup": best_dedup},
                  open("/tmp/hrwait-sampler2.json","w"), indent=1)
    time.sleep(0.25)
