"""make deb, checked: builds the Debian packages with scripts/deb.sh (that is
dpkg-buildpackage -us -uc -b, then lintian, which must find no error),
checks each package's contents and control data with dpkg-deb -c / -I and
-e (binaries, units, man pages, completion, conffiles, sysusers and tmpfiles
files, maintainer scripts, dependencies), then installs them into a scratch
root with dpkg --root and --force-script-chrootless, so that the real
maintainer scripts run (systemd-sysusers and systemd-tmpfiles with --root,
the key set-up with $DPKG_ROOT), and checks users, directories, modes,
owners and keys there; then removes one package again.

Slow (a full package build, about 30 s on 2 cores): CTest label "deb",
run by `make test-deb`. Skipped, saying why, when dpkg-buildpackage is not
installed (scripts/deps.sh deb installs it) or when not run as root
(dpkg --root needs root to give files their owners)."""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SKIP = 77  # CTest's SKIP_RETURN_CODE for this test

DAEMONS = {  # package -> (binary, user, state dir, mode, config)
    "tocsin-coordinator": ("tocsin-coordinator", "_tocsin", "/var/lib/tocsin", 0o750,
                           "coordinator.yaml"),
    "tocsin-agent": ("tocsin-agent", "_tocsin-agent", "/var/lib/tocsin-agent", 0o750,
                     "agent.yaml"),
    "tocsin-statuspage": ("tocsin-statuspage", "_tocsin-statuspage",
                          "/var/lib/tocsin-statuspage", 0o755, "statuspage.yaml"),
    "tocsin-notify": ("tocsin-notify", "_tocsin-notify", "/var/lib/tocsin-notify", 0o750,
                      "notify.yaml"),
    "tocsin-gateway": ("tocsin-gateway", "_tocsin-gateway", "/var/lib/tocsin-gateway", 0o750,
                       "gateway.yaml"),
}


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, **kw)


class DebTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tocsin-deb-")
        cls.out = os.path.join(cls.tmp, "build-deb")
        r = run(["/bin/sh", os.path.join(SRC, "scripts", "deb.sh"), cls.out])
        if r.returncode != 0:
            raise AssertionError("scripts/deb.sh failed:\n" + r.stdout + r.stderr)
        cls.version = run(["dpkg-parsechangelog", "-l", os.path.join(SRC, "debian", "changelog"),
                           "-S", "Version"]).stdout.strip()
        cls.debs = {}
        for name in os.listdir(cls.out):
            m = re.match(r"(tocsin-[a-z]+)_[^_]+_[a-z0-9]+\.deb$", name)
            if m:
                cls.debs[m.group(1)] = os.path.join(cls.out, name)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def contents(self, pkg):
        r = run(["dpkg-deb", "-c", self.debs[pkg]])
        self.assertEqual(r.returncode, 0, r.stderr)
        return {l.split()[-1].lstrip(".") if " -> " not in l else l.split()[-3].lstrip("."):
                l.split()[0] for l in r.stdout.splitlines()}

    def control(self, pkg):
        d = os.path.join(self.tmp, "control-" + pkg)
        r = run(["dpkg-deb", "-e", self.debs[pkg], d])
        self.assertEqual(r.returncode, 0, r.stderr)
        return d

    def test_lintian_found_no_error(self):
        with open(os.path.join(self.out, "lintian.txt")) as f:
            report = f.read()
        self.assertNotRegex(report, r"(?m)^E: ", report)

    def test_the_packages(self):
        self.assertEqual(sorted(self.debs), ["tocsin-agent", "tocsin-coordinator",
                                             "tocsin-gateway", "tocsin-notify",
                                             "tocsin-statuspage", "tocsin-tools"])

    def test_daemon_packages(self):
        for pkg, (binary, user, state, mode, config) in DAEMONS.items():
            with self.subTest(package=pkg):
                files = self.contents(pkg)
                for path in ("/usr/sbin/" + binary, "/lib/systemd/system/%s.service" % binary,
                             "/usr/share/man/man8/%s.8.gz" % binary,
                             "/usr/share/man/man5/%s.yaml.5.gz" % binary,
                             "/usr/share/bash-completion/completions/" + binary,
                             "/etc/tocsin/" + config,
                             "/usr/share/doc/%s/examples/%s" % (pkg, config),
                             "/usr/lib/sysusers.d/%s.conf" % pkg,
                             "/usr/lib/tmpfiles.d/%s.conf" % pkg,
                             "/usr/share/doc/%s/copyright" % pkg):
                    self.assertIn(path, files)
                self.assertEqual(files["/usr/sbin/" + binary], "-rwxr-xr-x")
                d = self.control(pkg)
                with open(os.path.join(d, "conffiles")) as f:
                    self.assertEqual(f.read().split(), ["/etc/tocsin/" + config])
                # prerm stops the service: tocsin-notify's is never started.
                scripts = ("postinst", "postrm") if pkg == "tocsin-notify" else (
                    "postinst", "prerm", "postrm")
                for script in scripts:
                    self.assertTrue(os.access(os.path.join(d, script), os.X_OK), script)
                with open(os.path.join(d, "postinst")) as f:
                    post = f.read()
                self.assertIn("systemd-sysusers", post)
                self.assertIn("systemd-tmpfiles", post)
                self.assertIn("deb-systemd-helper", post)
                # The key set-up comes after the users exist.
                self.assertLess(post.index("systemd-sysusers"),
                                post.rindex("local-key"))
                with open(os.path.join(d, "control")) as f:
                    ctl = f.read()
                self.assertIn("systemd | systemd-standalone-sysusers", ctl)
                self.assertRegex(ctl, r"(?m)^Version: %s$" % re.escape(self.version))
        info = run(["dpkg-deb", "-I", self.debs["tocsin-coordinator"]]).stdout
        self.assertIn("tocsin-tools (= %s)" % self.version, info)
        # tocsin-notify waits for subscriptions: not enabled, not started.
        with open(os.path.join(self.control("tocsin-notify"), "postinst")) as f:
            self.assertNotIn("deb-systemd-invoke", f.read())

    def test_tools_package(self):
        files = self.contents("tocsin-tools")
        for path in ("/usr/bin/tocsinctl", "/usr/bin/tocsin-sub",
                     "/usr/share/man/man1/tocsinctl.1.gz", "/usr/share/man/man1/tocsin-sub.1.gz",
                     "/usr/share/bash-completion/completions/tocsinctl",
                     "/usr/libexec/tocsin/local-key"):
            self.assertIn(path, files)

    def test_install_into_a_scratch_root(self):
        if os.geteuid() != 0:
            raise unittest.SkipTest("dpkg --root needs root to give files their owners")
        root = os.path.join(self.tmp, "root")
        for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "etc", "usr/sbin"):
            os.makedirs(os.path.join(root, d))
        os.chmod(self.tmp, 0o755)  # the users run the root's tocsinctl
        open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
        with open(os.path.join(root, "etc/passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n")
        with open(os.path.join(root, "etc/group"), "w") as f:
            f.write("root:x:0:\n")
        # No service is started from a scratch root, whatever the host runs.
        rc_d = os.path.join(root, "usr/sbin/policy-rc.d")
        with open(rc_d, "w") as f:
            f.write("#!/bin/sh\nexit 101\n")
        os.chmod(rc_d, 0o755)
        dpkg = ["dpkg", "--root=" + root, "--force-script-chrootless", "--force-depends",
                "--force-not-root", "--log=/dev/null"]
        r = run(dpkg + ["-i"] + sorted(self.debs.values()))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        out = r.stdout + r.stderr

        users = {}
        with open(os.path.join(root, "etc/passwd")) as f:
            for line in f:
                p = line.strip().split(":")
                users[p[0]] = (int(p[2]), int(p[3]), p[5], p[6])

        def owner_mode(path):
            st = os.stat(os.path.join(root, path.lstrip("/")))
            return st.st_uid, stat.S_IMODE(st.st_mode)

        for pkg, (binary, user, state, mode, config) in DAEMONS.items():
            with self.subTest(package=pkg):
                self.assertIn(user, users)
                uid, gid, home, shell = users[user]
                self.assertLess(uid, 1000, "a system user")
                self.assertEqual((home, shell), (state, "/usr/sbin/nologin"))
                self.assertEqual(owner_mode(state), (uid, mode))
                self.assertEqual(owner_mode("/etc/tocsin/" + config), (0, 0o644))
        tocsin = users["_tocsin"][0]
        self.assertEqual(owner_mode("/etc/tocsin/keys"), (tocsin, 0o700))
        self.assertEqual(owner_mode("/etc/tocsin/keys/private"), (tocsin, 0o700))
        self.assertEqual(owner_mode("/etc/tocsin/keys/coordinator.cert_secret"), (tocsin, 0o600))
        self.assertEqual(owner_mode("/etc/tocsin/keys/private/operator-rw.local.cert_secret"),
                         (tocsin, 0o600))
        self.assertEqual(owner_mode("/etc/tocsin/coordinator.cert"), (0, 0o644))
        # One host: each client daemon got its own pair, readable by it only.
        for d in ("agent", "statuspage", "notify", "gateway"):
            self.assertEqual(owner_mode("/etc/tocsin/%s.cert_secret" % d),
                             (users["_tocsin-" + d][0], 0o600))
            self.assertEqual(owner_mode("/etc/tocsin/%s.cert" % d), (0, 0o644))
        # The notifier signs pages' acknowledgement links with a copy of
        # the coordinator's link key that its group can read.
        self.assertEqual(owner_mode("/etc/tocsin/links.key"), (0, 0o640))
        self.assertEqual(os.stat(os.path.join(root, "etc/tocsin/links.key")).st_gid,
                         users["_tocsin-notify"][1])
        with open(os.path.join(root, "etc/tocsin/links.key"), "rb") as a, \
                open(os.path.join(root, "etc/tocsin/keys/links.key"), "rb") as b:
            self.assertEqual(a.read(), b.read())
        r = run([os.path.join(root, "usr/bin/tocsinctl"), "--json", "keys", "--dir",
                 os.path.join(root, "etc/tocsin/keys"), "list"])
        self.assertEqual(r.returncode, 0, r.stderr)
        keys = {(k["class"], k["name"]) for k in json.loads(r.stdout)}
        self.assertTrue({("operator-rw", "local"), ("subscriber", "statuspage"),
                         ("subscriber", "notify"), ("gateway", "gateway")} <= keys, keys)
        self.assertIn(("agent", os.uname().nodename), keys)
        # Units enabled where they should be; tocsin-notify waits.
        wants = os.path.join(root, "etc/systemd/system/multi-user.target.wants")
        self.assertEqual(sorted(os.listdir(wants)), ["tocsin-agent.service",
                                                     "tocsin-coordinator.service",
                                                     "tocsin-gateway.service",
                                                     "tocsin-statuspage.service"])
        # The gateway's token directory: root makes tokens, the gateway's
        # group reads them (setgid), nobody else does.
        gw = users["_tocsin-gateway"]
        st = os.stat(os.path.join(root, "etc/tocsin/gateway/integrations"))
        self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)), (0, gw[1], 0o2750))
        r = run([os.path.join(root, "usr/bin/tocsinctl"), "keys", "--dir",
                 os.path.join(root, "etc/tocsin/gateway"), "new", "integration", "prom", "*"])
        self.assertEqual(r.returncode, 0, r.stderr)
        st = os.stat(os.path.join(root, "etc/tocsin/gateway/integrations/prom.token"))
        self.assertEqual((st.st_gid, stat.S_IMODE(st.st_mode)), (gw[1], 0o640))
        self.assertIn("made the coordinator's key pair", out)
        # And removal runs the prerm/postrm scripts cleanly.
        r = run(dpkg + ["-r", "tocsin-notify"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertFalse(os.path.exists(os.path.join(root, "usr/sbin/tocsin-notify")))
        self.assertTrue(os.path.exists(os.path.join(root, "etc/tocsin/notify.yaml")),
                        "conffiles stay until purge")


if __name__ == "__main__":
    missing = [t for t in ("dpkg-buildpackage", "dh", "fakeroot", "dpkg-deb")
               if not shutil.which(t)]
    if missing:
        print("SKIP: %s not installed; run scripts/deps.sh deb (as root) to install the "
              "Debian packaging tools" % ", ".join(missing))
        sys.exit(SKIP)
    unittest.main()
