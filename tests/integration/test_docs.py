"""What an install ships besides the binaries, checked against the
binaries: man pages render without a groff warning and document exactly
the options each program takes; the example configurations are valid;
systemd-analyze accepts the units and rates their sandboxing; the bash
completion is the one tocsinctl makes from its own table."""

import glob
import os
import re
import shutil
import subprocess
import unittest

import tocsin_harness as h

BUILD = os.path.dirname(h.BIN)
SRC = os.path.abspath(os.path.join(h.HERE, "..", ".."))
MAN = os.path.join(BUILD, "man")
PROGRAMS = {  # man page -> program
    "tocsin-coordinator.8": h.COORDINATOR, "tocsin-agent.8": h.AGENT,
    "tocsin-statuspage.8": "tocsin-statuspage", "tocsin-notify.8": "tocsin-notify",
    "tocsinctl.1": h.CTL, "tocsin-sub.1": h.SUB, "tocsin-gateway.8": "tocsin-gateway",
}
CONFIG_PAGES = {"coordinator": "tocsin-coordinator.yaml.5", "agent": "tocsin-agent.yaml.5",
                "statuspage": "tocsin-statuspage.yaml.5", "notify": "tocsin-notify.yaml.5",
                "gateway": "tocsin-gateway.yaml.5"}
UNITS = ("tocsin-coordinator", "tocsin-agent", "tocsin-statuspage", "tocsin-notify",
         "tocsin-gateway")

# The YAML parsers, per man page: every key one of them accepts must have
# an entry in that page. A new parser (a file that loads YAML) must be added
# here with its page; common/yconf.c and common/cfgcheck.c are helpers that
# accept no key of their own.
PARSERS = {
    "tocsin-coordinator.yaml.5": ("coordinator/config.c", "coordinator/oncall.c",
                                  "coordinator/contacts.c"),
    "tocsin-agent.yaml.5": ("agent/config.c",),
    "tocsin-statuspage.yaml.5": ("statuspage/sp_config.c",),
    "tocsin-notify.yaml.5": ("notify/notify_config.c",),
    "tocsin-gateway.yaml.5": ("gateway/gw_config.c",),
}
YAML_HELPERS = {"common/yconf.c", "common/cfgcheck.c"}


def c_code(path):
    """A C file with its comments blanked (newlines kept, so line numbers
    hold) and its string literals intact."""
    with open(os.path.join(SRC, path)) as f:
        text = f.read()
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parser_keys(path):
    """The keys a parser accepts, as {key: (line, function)}, found the two
    ways the loaders match a key: strcmp() of the variable `key` with a
    literal (`!strcmp(key, "data")`, `strcmp(key, "id") == 0`, also through
    tc_yconf_pair_key()), and the key tables a loader walks (`s_check_keys`,
    `s_sub_keys`: arrays named *_keys, and the roster's section `names`)."""
    code = c_code(path)
    keys = {}

    def where(pos):
        line = code.count("\n", 0, pos) + 1
        fns = re.findall(r"^(?:static )?[a-z_][\w \*]*?\b(\w+)\(", code[:pos], re.M)
        return line, fns[-1] if fns else "?"

    for m in re.finditer(r'\bstrcmp\(\s*key\s*,\s*"([^"\\]+)"\s*\)', code):
        keys.setdefault(m.group(1), where(m.start()))
    for m in re.finditer(r"\bconst char \*(?:const )?(s_\w+_keys|names)\s*\[[^\]]*\]\s*=\s*\{"
                         r"([^}]*)\}", code):
        for k in re.finditer(r'"([^"\\]+)"', m.group(2)):
            keys.setdefault(k.group(1), (where(m.start())[0], m.group(1)))
    return keys


def unknown_key_lists(path):
    """The keys that the parser's "unknown key" messages list as expected,
    such as "unknown key (expected id, coordinator, ...)": a second account
    of what it accepts, to catch a key matched in a way parser_keys() does
    not see."""
    code = c_code(path)
    # Adjacent literals are one string in C.
    literals = re.sub(r'"\s*\n\s*"', "", code.replace('\\"', "'"))
    found = set()
    for m in re.finditer(r'"[^"\n]*unknown key[^"\n]*\(([^)"]*)\)[^"\n]*"', literals):
        words = re.sub(r"\bexpected\b|\bor\b|\band\b", " ", m.group(1))
        found |= set(re.findall(r"(?<![\w\[])([a-z][a-z_]*)(?![\w\]])", words))
    return found


def page_terms(page):
    """The keys a man page gives an entry: the bold words on its term
    lines, which start a paragraph with a bold word and are followed by
    their indented description (`*key*` then a line starting with a tab),
    and the sections named for one (`# POLICY`, `## business_hours`; not
    the standard NAME, SYNOPSIS, ...)."""
    with open(os.path.join(SRC, "man", page + ".scd")) as f:
        lines = f.read().replace("\\_", "_").splitlines()
    terms = set()
    for line in lines:
        m = re.match(r"#+ (.*)", line)
        if m and m.group(1) not in ("NAME", "SYNOPSIS", "DESCRIPTION", "EXAMPLE", "SEE ALSO"):
            terms |= set(re.findall(r"[a-z][a-z0-9_]*", m.group(1).lower()))
    for i, line in enumerate(lines):
        if (line.startswith("*") and (i == 0 or not lines[i - 1].strip())
                and i + 1 < len(lines) and lines[i + 1].startswith("\t")):
            terms |= set(re.findall(r"\*([a-z][a-z0-9_]*)\*", line))
    return terms



def help_options(name):
    """The options a program's --help defines: lines that start with one."""
    out = h.run([h.binary(name), "--help"]).stdout
    return set(re.findall(r"^ +(?:-\w, )?(--[a-z][a-z-]*)", out, re.M)), out


class DocsTest(h.TocsinTestCase):
    needs = ()

    def need_man(self):
        if not glob.glob(os.path.join(MAN, "*.[158]")):
            self.skipTest("no man pages in %s: scdoc was not found at configure time "
                          "(scripts/deps.sh installs it)" % MAN)

    def test_man_pages_render_without_warnings(self):
        self.need_man()
        pages = sorted(glob.glob(os.path.join(MAN, "*.[158]")))
        self.assertEqual(len(pages), 12, pages)
        for page in pages:
            with self.subTest(page=os.path.basename(page)):
                r = subprocess.run(["groff", "-man", "-ww", "-z", "-Tutf8", page],
                                   capture_output=True, text=True, timeout=60)
                self.assertEqual((r.returncode, r.stderr), (0, ""))
                if shutil.which("man"):
                    r = subprocess.run(["man", "--warnings", "-l", page], capture_output=True,
                                       text=True, timeout=60,
                                       env=h.clean_env({"MANPAGER": "cat", "LC_ALL": "C.UTF-8",
                                                        "MANWIDTH": "80"}))
                    self.assertEqual((r.returncode, r.stderr), (0, ""))

    def test_man_pages_document_every_option(self):
        """Each page's OPTIONS are exactly the program's --help options."""
        for page, prog in PROGRAMS.items():
            with self.subTest(page=page):
                h.require(self, prog)
                with open(os.path.join(SRC, "man", page + ".scd")) as f:
                    src = f.read()
                documented = set(re.findall(r"^\*(?:-\w, )?(--[a-z][a-z-]*)\*", src, re.M))
                # tocsinctl's command options are documented inline.
                if prog == h.CTL:
                    documented |= set(re.findall(r"\*(--[a-z][a-z-]*)\*", src))
                    documented.add("--message")  # as "-m, --message TEXT"
                given, _ = help_options(prog)
                self.assertEqual(sorted(given - documented), [], "options not in %s" % page)
                self.assertEqual(sorted(documented - given), [],
                                 "%s documents options %s does not take" % (page, prog))

    def test_tocsinctl_page_documents_every_command(self):
        h.require(self, h.CTL)
        out = h.run([h.binary(h.CTL), "completion", "bash"]).stdout
        commands = re.search(r"words1='([^']*)'\n        pos=-1", out).group(1).split()
        self.assertIn("incidents", commands)
        with open(os.path.join(SRC, "man", "tocsinctl.1.scd")) as f:
            src = f.read()
        for cmd in commands:
            self.assertRegex(src, r"\*%s(\*| )" % re.escape(cmd), "tocsinctl(1) lacks " + cmd)

    def test_config_pages_document_every_example_key(self):
        for name, page in CONFIG_PAGES.items():
            with self.subTest(page=page):
                with open(os.path.join(SRC, "man", page + ".scd")) as f:
                    src = f.read().replace("\\_", "_")
                with open(os.path.join(SRC, "examples", name + ".yaml")) as f:
                    text = f.read()
                keys = set()
                for line in text.splitlines():
                    line = line.split("#")[0].lstrip(" -#")
                    m = re.match(r"([a-z_]+):", line)
                    if m:
                        keys.add(m.group(1))
                # Names the example defines, not settings.
                keys -= {"host", "servers"}
                self.assertTrue(keys)
                for k in sorted(keys):
                    self.assertRegex(src, r"\*%s\*" % re.escape(k), "%s lacks key %s" % (page, k))

    def test_config_pages_document_every_parser_key(self):
        """Every key a configuration parser accepts has an entry in its
        man page, read from the parser's source."""
        for page, sources in PARSERS.items():
            with self.subTest(page=page):
                terms = page_terms(page)
                missing = []
                for src in sources:
                    for key, (line, fn) in sorted(parser_keys(src).items()):
                        if key not in terms:
                            missing.append("%s (%s:%d, %s)" % (key, src, line, fn))
                if missing:
                    self.fail("%s has no entry for these keys that %s accept%s:\n  %s"
                              % (page, " and ".join(sources), "" if len(sources) > 1 else "s",
                                 "\n  ".join(missing)))

    def test_readme_reference_names_every_parser_key(self):
        """README's "Configuration reference" tables name every key the
        parsers accept (in a code span such as `policy.bridge_url`)."""
        with open(os.path.join(SRC, "README.md")) as f:
            readme = f.read()
        m = re.search(r"^### Configuration reference\n(.*?)^##", readme, re.S | re.M)
        self.assertTrue(m, "README.md has no Configuration reference section")
        spans = " ".join(re.findall(r"`([^`]+)`", m.group(1)))
        for page, sources in PARSERS.items():
            with self.subTest(page=page):
                missing = sorted(k for src in sources for k in parser_keys(src)
                                 if not re.search(r"(?<![\w])%s(?![\w])" % re.escape(k), spans))
                self.assertEqual(missing, [], "keys of %s missing from README's reference"
                                 % page)

    def test_parser_key_extraction_sees_every_key(self):
        """The extraction above finds what the parsers' own "unknown key"
        messages list, and a known key of every section; every file that
        loads YAML is one of the parsers."""
        for page, sources in PARSERS.items():
            with self.subTest(page=page):
                keys = {}
                for src in sources:
                    keys.update(parser_keys(src))
                listed = set()
                for src in sources:
                    listed |= unknown_key_lists(src)
                self.assertTrue(listed, "no unknown-key message found in %s" % (sources,))
                self.assertEqual(sorted(listed - set(keys)), [],
                                 "keys the messages of %s list but the extraction misses"
                                 % (sources,))
        known = {"coordinator/config.c": {"coordinator", "policy", "audit_retention",
                                          "declare_after", "security_team",
                                          "roles_by_severity", "users_per_host", "description"},
                 "coordinator/oncall.c": {"people", "email", "rotation", "members",
                                          "business_hours", "holidays", "fallback", "until"},
                 "agent/config.c": {"agent", "checks", "spool_max", "retries", "flap", "low"},
                 "statuspage/sp_config.c": {"statuspage", "stale", "insecure"},
                 "notify/notify_config.c": {"notify", "smtp", "password_file", "drill",
                                            "failing_after"}}
        for src, want in known.items():
            self.assertEqual(sorted(want - set(parser_keys(src))), [], src)
        # Every program's source (each top-level folder but the tests and
        # build trees), so that a new daemon's folder is covered too.
        parsers = {s for sources in PARSERS.values() for s in sources}
        for path in sorted(glob.glob(os.path.join(SRC, "*", "*.c"))):
            rel = os.path.relpath(path, SRC)
            if rel.split(os.sep)[0] in ("tests", "bench") or rel.startswith("build"):
                continue
            with open(path) as f:
                text = f.read()
            if re.search(r"\b(tc_yconf_load|yaml_parser_load)\(", text):
                self.assertIn(rel, parsers | YAML_HELPERS,
                              "%s loads YAML: add it to PARSERS with its man page" % rel)

    def make_etc(self):
        """A scratch /etc/tocsin: a key directory, and the client key pairs
        and coordinator certificate where the shipped files expect them."""
        keys = os.path.join(self.tmp, "etc", "keys")
        ctl = [h.binary(h.CTL), "keys", "--dir", keys]
        self.assertEqual(h.run(ctl + ["init"]).returncode, 0)
        for cls, name in (("agent", "a"), ("subscriber", "sp"), ("subscriber", "n"),
                          ("gateway", "gateway")):
            self.assertEqual(h.run(ctl + ["new", cls, name]).returncode, 0)
        etc = os.path.join(self.tmp, "etc")
        shutil.copy(os.path.join(keys, "coordinator.cert"), etc)
        for pair, dest in (("agent.a", "agent"), ("subscriber.sp", "statuspage"),
                           ("subscriber.n", "notify"), ("gateway.gateway", "gateway")):
            for suffix in ("", "_secret"):
                shutil.copy(os.path.join(keys, "private", pair + ".cert" + suffix),
                            os.path.join(etc, dest + ".cert" + suffix))
        os.makedirs(os.path.join(etc, "gateway", "integrations"))  # the package makes it
        return etc

    def check_config(self, name, prog, text, etc,
                     coordinator_config=os.path.join(SRC, "examples", "coordinator.yaml")):
        """Runs PROG --check-config on `text` with /etc/tocsin and /var/lib
        moved into the scratch directory; asserts a clean pass. Notify's
        components are checked against `coordinator_config`."""
        text = text.replace("/etc/tocsin", etc).replace("/var/lib", self.tmp)
        path = os.path.join(self.tmp, name + ".yaml")
        with open(path, "w") as f:
            f.write(text)
        argv = [h.binary(prog), "--check-config", "--config", path]
        if name == "notify":
            argv += ["--coordinator-config", coordinator_config]
        if name == "agent" and not os.access("/usr/lib/nagios/plugins/check_disk", os.X_OK):
            self.skipTest("monitoring-plugins-basic is not installed")
        r = h.run(argv, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")

    def test_examples_are_valid(self):
        """The shipped configurations pass --check-config once their keys
        and directories exist (here: in a scratch copy of /etc and /var)."""
        etc = self.make_etc()
        for name, prog in (("coordinator", h.COORDINATOR), ("agent", h.AGENT),
                           ("statuspage", "tocsin-statuspage"), ("notify", "tocsin-notify"),
                           ("gateway", "tocsin-gateway")):
            with self.subTest(config=name):
                h.require(self, prog)
                with open(os.path.join(SRC, "examples", name + ".yaml")) as f:
                    text = f.read()
                if name == "agent":
                    text = text.replace("  # id:", "  id: a\n  # id:")
                if name == "notify":  # ships without subscriptions, on purpose
                    text += ("  - name: hook\n    type: webhook\n"
                             "    url: http://127.0.0.1:9/hook\n    components: [servers]\n")
                self.check_config(name, prog, text, etc)

    def test_config_page_examples_are_valid(self):
        """Each configuration page has one EXAMPLE, a file that passes
        --check-config as it is (its hosts made local, its paths moved into
        the scratch directory, the files it names made)."""
        etc = self.make_etc()
        with open(os.path.join(etc, "smtp-password"), "w") as f:
            f.write("secret\n")
        # The notify example names the coordinator example's component
        # "public-api"; check it against the page's own coordinator file.
        with open(os.path.join(SRC, "man", CONFIG_PAGES["coordinator"] + ".scd")) as f:
            coordinator_example = re.findall(r"^# EXAMPLE\n\n```\n(.*?)^```", f.read(),
                                             re.S | re.M)[0]
        for name, prog in (("coordinator", h.COORDINATOR), ("agent", h.AGENT),
                           ("statuspage", "tocsin-statuspage"), ("notify", "tocsin-notify")):
            with self.subTest(page=CONFIG_PAGES[name]):
                h.require(self, prog)
                with open(os.path.join(SRC, "man", CONFIG_PAGES[name] + ".scd")) as f:
                    src = f.read()
                self.assertEqual(len(re.findall(r"^# EXAMPLE$", src, re.M)), 1)
                text = re.findall(r"^# EXAMPLE\n\n```\n(.*?)^```", src, re.S | re.M)[0]
                text = text.replace("coordinator.example.com", "127.0.0.1")
                if name == "agent":
                    text = text.replace("id: web-01", "id: a")
                cpath = os.path.join(self.tmp, "page-coordinator.yaml")
                with open(cpath, "w") as f:
                    f.write(coordinator_example)
                self.check_config(name, prog, text, etc, cpath)

    def test_units_verify(self):
        analyze = shutil.which("systemd-analyze")
        if not analyze:
            self.skipTest("systemd-analyze is not installed")
        units = [os.path.join(BUILD, "systemd-test", u + ".service") for u in UNITS]
        for u in units:
            self.assertTrue(os.path.exists(u), u)
        r = subprocess.run([analyze, "verify", "--man=no"] + units, capture_output=True,
                           text=True, timeout=120)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        # The sandbox, as systemd rates it (0 best, 10 worst); the agent is
        # looser on purpose (its unit says why).
        limits = {"tocsin-coordinator": 2.0, "tocsin-statuspage": 2.0, "tocsin-notify": 2.0,
                  "tocsin-gateway": 2.0, "tocsin-agent": 6.0}
        for u in units:
            name = os.path.basename(u)[:-len(".service")]
            with self.subTest(unit=name):
                r = subprocess.run([analyze, "security", "--offline=true", "--no-pager", u],
                                   capture_output=True, text=True, timeout=120)
                m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout + r.stderr)
                self.assertTrue(m, r.stdout[-500:] + r.stderr)
                self.assertLessEqual(float(m.group(1)), limits[name])
                with open(u) as f:
                    text = f.read()
                for line in ("Type=notify", "WatchdogSec=", "RestartPreventExitStatus=2",
                             "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes"):
                    self.assertIn(line, text)

    def test_completion_is_generated(self):
        h.require(self, h.CTL)
        path = os.path.join(BUILD, "bash-completion", "tocsinctl")
        with open(path) as f:
            built = f.read()
        self.assertEqual(built, h.run([h.binary(h.CTL), "completion", "bash"]).stdout)
        for p in ("tocsin-sub", "tocsin-coordinator", "tocsin-agent", "tocsin-gateway"):
            with open(os.path.join(BUILD, "bash-completion", p)) as f:
                self.assertIn("complete -F _longopt %s" % p, f.read())


if __name__ == "__main__":
    unittest.main()
