"""docker/ checked without a Docker engine: the Dockerfiles are parsed and
what they would do is checked against the repository and the build: every
COPY'd path exists and the build stage's files are enough for CMake to
configure; every binary copied from the build stage is one the build
installs there; the users exist; tini is PID 1; every image has a
HEALTHCHECK; the configurations baked into the images pass the daemons'
own --check-config. compose.yaml (PyYAML) is checked for images, volumes,
key isolation (only the coordinator mounts its secret), each client's key
files where its configuration looks for them, and state volumes."""

import json
import os
import re
import shlex
import shutil
import subprocess
import unittest

import tocsin_harness as h

try:
    import yaml
except ImportError:  # python3-yaml (scripts/deps.sh)
    yaml = None

SRC = os.path.abspath(os.path.join(h.HERE, "..", ".."))
DOCKER = os.path.join(SRC, "docker")
BUILD = os.path.dirname(h.BIN)
CLIENTS = ("agent", "statuspage", "notify", "gateway")


def parse_dockerfile(path):
    """[(stage_name, [(INSTRUCTION, args)])]: continuation lines joined,
    comments dropped."""
    with open(path) as f:
        text = f.read()
    lines, cur = [], ""
    for raw in text.splitlines():
        if not cur and raw.lstrip().startswith("#"):
            continue
        if raw.rstrip().endswith("\\"):
            cur += raw.rstrip()[:-1] + " "
            continue
        cur += raw
        if cur.strip():
            lines.append(cur.strip())
        cur = ""
    stages = []
    for line in lines:
        instr, _, args = line.partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", args, re.I)
            stages.append((m.group(2) or m.group(1), [("FROM", args)]))
        else:
            stages[-1][1].append((instr, args.strip()))
    return stages


def exec_form(args):
    args = args.strip()
    return json.loads(args) if args.startswith("[") else shlex.split(args)


def copies(instrs):
    """[(from_stage or None, [sources], dest)]."""
    out = []
    for instr, args in instrs:
        if instr != "COPY":
            continue
        words = shlex.split(args)
        frm = None
        while words[0].startswith("--"):
            if words[0].startswith("--from="):
                frm = words[0][len("--from="):]
            words = words[1:]
        out.append((frm, words[:-1], words[-1]))
    return out


class DockerTest(h.TocsinTestCase):
    needs = (h.COORDINATOR, h.AGENT, h.CTL, "tocsin-statuspage", "tocsin-notify",
             "tocsin-gateway")

    def setUp(self):
        super().setUp()
        self.files = {name: parse_dockerfile(os.path.join(DOCKER, name))
                      for name in ("Dockerfile.coordinator", "Dockerfile.agent",
                                   "Dockerfile.gateway")}

    def final(self, name):
        return self.files[name][-1][1]

    def test_build_stage_copies_enough_to_configure(self):
        if not shutil.which("cmake"):
            self.skipTest("no cmake")
        for name, stages in self.files.items():
            with self.subTest(dockerfile=name):
                build = dict(stages)["build"]
                tree = os.path.join(self.tmp, name)
                os.makedirs(tree)
                for frm, sources, dest in copies(build):
                    self.assertIsNone(frm)
                    for s in sources:
                        path = os.path.join(SRC, s)
                        self.assertTrue(os.path.exists(path), "%s copies missing %s" % (name, s))
                        target = os.path.join(tree, dest if dest not in ("./", ".") else "",
                                              "" if s.endswith("/") else os.path.basename(s))
                        if os.path.isdir(path):
                            shutil.copytree(path, os.path.join(tree, s.rstrip("/")))
                        else:
                            shutil.copy(path, target)
                r = subprocess.run(["cmake", "-S", tree, "-B", os.path.join(tree, "b"),
                                    "-DTOCSIN_TESTS=OFF"], capture_output=True, text=True,
                                   timeout=120)
                self.assertEqual(r.returncode, 0, "the build stage cannot configure:\n"
                                 + r.stdout[-1500:] + r.stderr[-1500:])

    def test_final_stages(self):
        # Where `cmake --install --prefix /opt/tocsin` puts things.
        prefix = os.path.join(self.tmp, "opt-tocsin")
        r = subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        uids = set()
        for name in self.files:
            with self.subTest(dockerfile=name):
                instrs = self.final(name)
                runs = " ".join(a for i, a in instrs if i == "RUN")
                # The user exists, with the uid shared by both images.
                user = [a for i, a in instrs if i == "USER"]
                self.assertEqual(len(user), 1)
                m = re.search(r"useradd\b[^&]*--uid (\d+)[^&]*\b%s\b" % user[0], runs)
                self.assertTrue(m, "USER %s is never created" % user[0])
                uids.add(m.group(1))
                self.assertRegex(runs, r"apt-get install[^&]*\btini\b")
                # Every image's binary answers HTTP (the agent for its
                # /healthz): the runtime library is installed.
                self.assertRegex(runs, r"apt-get install[^&]*\blibmicrohttpd12\b")
                copied = {}
                for frm, sources, dest in copies(instrs):
                    for s in sources:
                        if frm == "build":
                            rel = os.path.relpath(s, "/opt/tocsin")
                            self.assertTrue(os.path.exists(os.path.join(prefix, rel)),
                                            "%s: the build installs no %s" % (name, s))
                        else:
                            self.assertTrue(os.path.exists(os.path.join(SRC, s)), s)
                        target = dest if not dest.endswith("/") else dest + os.path.basename(s)
                        copied[target] = s
                entry = exec_form([a for i, a in instrs if i == "ENTRYPOINT"][0])
                self.assertEqual(entry[:2], ["tini", "--"], "tini must be PID 1")
                self.assertIn("/usr/local/bin/" + entry[2], copied)
                config = entry[entry.index("--config") + 1]
                self.assertIn(config, copied, "the --config file is in the image")
                self.assertEqual(exec_form([a for i, a in instrs if i == "CMD"][0]), [],
                                 "docker run arguments come after --config")
                health = [a for i, a in instrs if i == "HEALTHCHECK"]
                self.assertEqual(len(health), 1, "a HEALTHCHECK")
                hcmd = exec_form(health[0].split("CMD", 1)[1])
                self.assertIn("/usr/local/bin/" + hcmd[0], copied)
                self.assertEqual(copied["/usr/local/bin/" + hcmd[0]], "docker/healthcheck.sh")
        self.assertEqual(len(uids), 1, "the images must use one uid (shared key volumes)")

    def image_configs(self):
        """{daemon: path in repo} of every configuration baked in."""
        out = {}
        for name in self.files:
            for frm, sources, dest in copies(self.final(name)):
                for s in sources:
                    m = re.match(r"docker/([a-z]+)\.yaml$", s)
                    if m:
                        out[m.group(1)] = os.path.join(SRC, s)
        return out

    def test_configurations_pass_check_config(self):
        configs = self.image_configs()
        self.assertEqual(sorted(configs), ["agent", "coordinator", "gateway", "notify", "statuspage"])
        root = self.tmp
        client = os.path.join(root, "etc/tocsin/client")
        os.makedirs(client)
        keys = os.path.join(root, "k")
        ctl = [h.binary(h.CTL), "keys", "--dir", keys]
        self.assertEqual(h.run(ctl + ["init"]).returncode, 0)
        shutil.copy(os.path.join(keys, "coordinator.cert"), client)
        for d in CLIENTS:
            cls = "gateway" if d == "gateway" else "subscriber"
            self.assertEqual(h.run(ctl + ["new", cls, d]).returncode, 0)
            for suffix in ("", "_secret"):
                shutil.copy(os.path.join(keys, "private", "%s.%s.cert%s" % (cls, d, suffix)),
                            os.path.join(client, "%s.cert%s" % (d, suffix)))
        progs = {"coordinator": h.COORDINATOR, "agent": h.AGENT,
                 "statuspage": "tocsin-statuspage", "notify": "tocsin-notify",
                 "gateway": "tocsin-gateway"}
        for name, path in configs.items():
            with self.subTest(config=name):
                with open(path) as f:
                    text = f.read()
                if name in ("coordinator", "statuspage", "gateway"):
                    self.assertIn("0.0.0.0", text, "the binds are in the file")
                text = text.replace("/var/lib", root + "/var/lib").replace(
                    "/etc/tocsin", root + "/etc/tocsin")
                mine = os.path.join(root, name + ".yaml")
                with open(mine, "w") as f:
                    f.write(text)
                if name == "agent" and not os.access("/usr/lib/nagios/plugins/check_disk",
                                                     os.X_OK):
                    self.skipTest("monitoring-plugins-basic is not installed")
                r = h.run([h.binary(progs[name]), "--check-config", "--config", mine,
                           "--log-level", "info"] + (["--id", "web-01"] if name == "agent"
                                                     else []), cwd=root)
                self.assertEqual(r.returncode, 0, r.stderr)

    def compose(self):
        if yaml is None:
            self.skipTest("python3-yaml is not installed (scripts/deps.sh)")
        with open(os.path.join(DOCKER, "compose.yaml")) as f:
            return yaml.safe_load(f)

    def mounts(self, svc):
        """{volume: (target, read_only)} of a service's named volumes."""
        out = {}
        for v in svc.get("volumes", []):
            parts = v.split(":")
            out[parts[0]] = (parts[1], len(parts) > 2 and "ro" in parts[2].split(","))
        return out

    def test_compose(self):
        c = self.compose()
        services = c["services"]
        declared = set(c.get("volumes", {}))
        built = {s["image"]: s["build"] for s in services.values() if "build" in s}
        for name, svc in services.items():
            with self.subTest(service=name):
                self.assertIn(svc["image"], built, "no service builds " + svc["image"])
                b = built[svc["image"]]
                self.assertTrue(os.path.exists(os.path.join(DOCKER, b["context"], b["dockerfile"])))
                for vol in self.mounts(svc):
                    self.assertIn(vol, declared)
                for dep in svc.get("depends_on", {}).values():
                    self.assertIn(dep["condition"], ("service_healthy",
                                                     "service_completed_successfully"))
        used = {v for s in services.values() for v in self.mounts(s)}
        self.assertEqual(used, declared, "declared but unused volumes")
        for name in ("coordinator", "agent", "statuspage", "notify", "gateway", "keys"):
            self.assertIn(name, services)
        # Only the coordinator and the job that makes keys see its secret.
        for name, svc in services.items():
            if "coordinator-keys" in self.mounts(svc):
                self.assertIn(name, ("coordinator", "keys"))

    def test_compose_clients_find_their_keys(self):
        c = self.compose()
        services = c["services"]
        job = services["keys"]
        script = job["command"][0]
        job_mounts = self.mounts(job)
        configs = self.image_configs()
        made = set(re.findall(r"\b(agent|subscriber|gateway|operator-ro|operator-rw):([A-Za-z0-9._-]+)",
                              script))
        for d in CLIENTS:
            with self.subTest(client=d):
                svc = services[d]
                mounts = self.mounts(svc)
                vol = d + "-keys"
                self.assertIn(vol, mounts, "%s mounts its own key volume" % d)
                target, ro = mounts[vol]
                self.assertTrue(ro, "read-only")
                # Exactly one key volume each: not another client's.
                self.assertEqual([v for v in mounts if v.endswith("-keys")], [vol])
                with open(configs[d]) as f:
                    cfg = yaml.safe_load(f)[d]
                self.assertEqual(os.path.dirname(cfg["key"]), target)
                self.assertEqual(os.path.dirname(cfg["server_key"]), target)
                # The job copies the pair under the name the config reads.
                stem = os.path.basename(cfg["key"])[:-len(".cert")]
                m = re.search(r"copy (\S+) \"\$\$c/%s\" %s\b" % (d, stem), script)
                self.assertTrue(m, "the keys job does not copy %s's pair as %s" % (d, stem))
                cls, _, keyname = m.group(1).partition(".")
                self.assertIn((cls, keyname), made)
                self.assertEqual(job_mounts[vol][0], "/var/lib/tocsin/clients/" + d)
                if d == "agent":
                    self.assertEqual(svc["hostname"], keyname, "the agent id is its host name")
                # Its state is a volume, where its configuration keeps it.
                state = cfg.get("state") or cfg.get("spool")
                if d in ("statuspage", "gateway"):
                    state = os.path.dirname(state)
                self.assertIn(state, [t for t, _ in mounts.values()])
        # The coordinator's directories in the image, for the job's volumes.
        runs = " ".join(a for i, a in self.final("Dockerfile.coordinator") if i == "RUN")
        for d in CLIENTS:
            self.assertIn("/var/lib/tocsin/clients/" + d, runs)
        # The health checks ask /healthz where the script looks for it (no
        # key, no audit record): the coordinator's, notify's and the agent's
        # metrics listeners.
        env = " ".join(a for i, a in self.final("Dockerfile.coordinator") if i == "ENV")
        self.assertNotIn("TOCSIN_HEALTH_KEY", env)
        with open(os.path.join(DOCKER, "healthcheck.sh")) as f:
            script = f.read()
        for name, port in (("coordinator", 7406), ("notify", 7407), ("agent", 7409)):
            with open(configs[name]) as f:
                listen = yaml.safe_load(f)[name]["metrics"]
            self.assertEqual(int(listen.rsplit(":", 1)[1]), port, name)
            self.assertRegex(script, r"running tocsin-%s; then\n    healthz %d\n" % (name, port))
        coord = services["coordinator"]
        self.assertEqual(self.mounts(coord)["coordinator-keys"][0], "/var/lib/tocsin/keys")
        with open(configs["coordinator"]) as f:
            ccfg = yaml.safe_load(f)["coordinator"]
        self.assertEqual(ccfg["keys"], "/var/lib/tocsin/keys")
        self.assertIn(ccfg["data"], [t for t, _ in self.mounts(coord).values()])
        # notify: in compose, with its state volume (checked above), opt-in.
        self.assertEqual(services["notify"].get("profiles"), ["notify"])

    def test_healthcheck_script(self):
        path = os.path.join(DOCKER, "healthcheck.sh")
        self.assertTrue(os.access(path, os.X_OK))
        r = subprocess.run(["sh", "-n", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        # In a PID namespace of its own, so the machine's other tocsin
        # processes do not count: nothing there is unhealthy.
        unshare = shutil.which("unshare")
        probe = [unshare, "--pid", "--fork", "--mount-proc"] if unshare else None
        if not probe or subprocess.run(probe + ["true"], capture_output=True).returncode != 0:
            self.skipTest("cannot make a PID namespace (unshare, root) here")
        r = subprocess.run(probe + ["sh", path], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        def probe_with(name, env=None):
            fake = os.path.join(self.tmp, name)
            shutil.copy(shutil.which("sleep"), fake)
            return subprocess.run(probe + ["sh", "-c", '"$1" 30 & '
                                           'until grep -qx "$3" /proc/[0-9]*/comm; do '
                                           'sleep 0.05; done 2>/dev/null; sh "$2"', "sh", fake,
                                           path, name[:15]],
                                  capture_output=True, text=True, timeout=60, env=env)

        # A gateway is asked for GET /healthz on 127.0.0.1:7405: a real
        # one, in a network namespace of its own too (its own port 7405).
        # A process of that name that does not answer is unhealthy.
        if subprocess.run(probe + ["--net", "true"], capture_output=True).returncode != 0:
            self.skipTest("cannot make a network namespace here")
        fake = os.path.join(self.tmp, "tocsin-gateway")
        shutil.copy(shutil.which("sleep"), fake)
        r = subprocess.run(probe + ["--net", "sh", "-c",
                                    'ip link set lo up; "$1" 30 & '
                                    'until grep -qx tocsin-gateway /proc/[0-9]*/comm; do '
                                    'sleep 0.05; done 2>/dev/null; sh "$2"', "sh", fake, path],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0, "a gateway that does not answer is unhealthy")
        t = self.tmp
        script = ('ip link set lo up || exit 3; "$1" --insecure --listen 127.0.0.1:7405 '
                  '--spool "$3/spool" --state "$3/state" --integrations "$3/int" '
                  '--log-level warn 2>"$3/gw.log" & '
                  'for i in $(seq 200); do sh "$2" && exit 0; sleep 0.05; done; exit 1')
        r = subprocess.run(probe + ["--net", "sh", "-c", script, "sh",
                                    h.binary("tocsin-gateway"), path, t],
                           capture_output=True, text=True, timeout=60)
        with open(os.path.join(t, "gw.log")) as f:
            self.assertEqual(r.returncode, 0, r.stderr + f.read())
        # The coordinator (a name longer than comm's 15 bytes) the same way:
        # unhealthy when its /healthz on 7406 does not answer, healthy when
        # a real one serves it.
        fake = os.path.join(self.tmp, "tocsin-coordinator")
        shutil.copy(shutil.which("sleep"), fake)
        r = subprocess.run(probe + ["--net", "sh", "-c",
                                    'ip link set lo up; "$1" 30 & '
                                    'until grep -qx tocsin-coordina /proc/[0-9]*/comm; do '
                                    'sleep 0.05; done 2>/dev/null; sh "$2"', "sh", fake, path],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0, "a coordinator that does not answer is unhealthy")
        script = ('ip link set lo up || exit 3; "$1" --insecure --data "$3/data" '
                  '--agents tcp://127.0.0.1:7401 --api tcp://127.0.0.1:7402 '
                  '--publish tcp://127.0.0.1:7403 --metrics 127.0.0.1:7406 '
                  '--log-level warn 2>"$3/co.log" & '
                  'for i in $(seq 200); do sh "$2" && exit 0; sleep 0.05; done; exit 1')
        r = subprocess.run(probe + ["--net", "sh", "-c", script, "sh",
                                    h.binary(h.COORDINATOR), path, t],
                           capture_output=True, text=True, timeout=60)
        with open(os.path.join(t, "co.log")) as f:
            self.assertEqual(r.returncode, 0, r.stderr + f.read())
        # The agent too: a process of that name is not enough any more, a
        # real one answers /healthz on 7409 (docker/agent.yaml turns it on).
        fake = os.path.join(self.tmp, "tocsin-agent")
        shutil.copy(shutil.which("sleep"), fake)
        r = subprocess.run(probe + ["--net", "sh", "-c",
                                    'ip link set lo up; "$1" 30 & '
                                    'until grep -qx tocsin-agent /proc/[0-9]*/comm; do '
                                    'sleep 0.05; done 2>/dev/null; sh "$2"', "sh", fake, path],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0, "an agent that does not answer is unhealthy")
        script = ('ip link set lo up || exit 3; "$1" --insecure --id web-01 '
                  '--spool "$3/aspool" --metrics 127.0.0.1:7409 '
                  '--log-level warn 2>"$3/ag.log" & '
                  'for i in $(seq 200); do sh "$2" && exit 0; sleep 0.05; done; exit 1')
        r = subprocess.run(probe + ["--net", "sh", "-c", script, "sh",
                                    h.binary(h.AGENT), path, t],
                           capture_output=True, text=True, timeout=60)
        with open(os.path.join(t, "ag.log")) as f:
            self.assertEqual(r.returncode, 0, r.stderr + f.read())

if __name__ == "__main__":
    unittest.main()
