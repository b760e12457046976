#!/usr/bin/env python3
"""Generates dsm's man pages and shell completions from the help the binary prints.

Usage: gen_cli_docs.py DSM_BIN COMMANDS_CPP OUT_DIR

The command list is the command table in src/commands/commands.cpp (so a new
row gets a page and completions without touching this script); everything else
(descriptions, usage, options, subcommands, ENVIRONMENT, EXIT STATUS) is parsed
from `dsm --help` and `dsm COMMAND [SUB] --help`, the text users see. Writes
  OUT_DIR/man/man1/dsm.1, OUT_DIR/man/man1/dsm-COMMAND.1 (one per command)
  OUT_DIR/completion/bash/dsm, OUT_DIR/completion/zsh/_dsm
Files whose content did not change are not rewritten.
"""
import datetime
import os
import re
import subprocess
import sys

SECTION_RE = re.compile(r"^[A-Z][A-Z ]+$")  # ENVIRONMENT, EXIT STATUS, ...


def run_help(dsm, args):
    env = dict(os.environ, COLUMNS="200", LC_ALL="C")
    # a -DDSM_SANITIZE=ON build: a leak report at exit must not fail the build
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    out = subprocess.run([dsm, *args, "--help"], capture_output=True, text=True, env=env, cwd="/")
    if out.returncode != 0:
        sys.exit(f"gen_cli_docs: '{' '.join(['dsm', *args, '--help'])}' exited {out.returncode}: {out.stderr}")
    return out.stdout


def command_table(commands_cpp):
    text = open(commands_cpp, encoding="utf-8").read()
    names = re.findall(r'\{\s*"([a-z][a-z0-9-]*)"\s*,\s*register_\w+', text)
    if not names:
        sys.exit(f"gen_cli_docs: no command table found in {commands_cpp}")
    return names


class Help:
    """One --help text split into its parts."""

    def __init__(self, text):
        lines = text.rstrip("\n").split("\n")
        usage_at = next((i for i, l in enumerate(lines) if l.startswith("Usage: ")), None)
        if usage_at is None:
            sys.exit("gen_cli_docs: no 'Usage:' line in:\n" + text)
        self.description = lines[:usage_at]
        self.usage = lines[usage_at][len("Usage: "):]
        self.positionals = []  # (name, text)
        self.options = []  # (spec, text): spec like "-j,--jobs N"
        self.subcommands = []  # (name, text)
        self.sections = []  # (TITLE, [lines])
        self.groups = []  # top level: (title, [(command, text)])
        block = None
        rest = lines[usage_at + 1:]
        for at, line in enumerate(rest):
            following = rest[at + 1] if at + 1 < len(rest) else ""
            if re.match(r"^[a-z][^.:]*$", line) and re.match(r"^\s+\S+\s{2,}\S", following):
                # a group title of the top-level command list, then "   command   summary" lines
                self.groups.append((line, []))
                block = "group"
                continue
            if line in ("Positionals:", "Options:", "Subcommands:"):
                block = line[:-1]
                continue
            if SECTION_RE.match(line):
                self.sections.append((line, []))
                block = "section"
                continue
            if block in ("Positionals", "Options", "Subcommands"):
                m = re.match(r"^  (\S.*?)(?:\s{2,}(.*))?$", line)
                # "  NAME   text"; a continuation line is indented further
                if m and (not line.startswith("   ") or (block == "Options" and line.lstrip().startswith("-"))):
                    entry = [m.group(1).strip(), (m.group(2) or "").strip()]
                    {"Positionals": self.positionals, "Options": self.options,
                     "Subcommands": self.subcommands}[block].append(entry)
                    continue
                if line.strip() and line.startswith("   "):
                    target = {"Positionals": self.positionals, "Options": self.options,
                              "Subcommands": self.subcommands}[block]
                    if target:  # a wrapped description line
                        target[-1][1] = (target[-1][1] + " " + line.strip()).strip()
                        continue
                if not line.strip():
                    block = "text"
                    continue
                block = "text"
            if block == "group":
                m = re.match(r"^\s+(\S+)\s{2,}(.*)$", line)
                if m:
                    self.groups[-1][1].append((m.group(1), m.group(2).strip()))
                    continue
                if not line.strip():
                    continue
                block = "text"
            if block == "section":
                self.sections[-1][1].append(line)
            else:
                # free text after the option blocks: one untitled section (NOTES)
                block = "text"
                if not self.sections or self.sections[-1][0]:
                    self.sections.append(("", []))
                self.sections[-1][1].append(line)

    def option_names(self):
        names = []
        for spec, _ in self.options:
            names += [n for n in spec.split()[0].split(",") if n.startswith("-")]
        return names

    def option_value(self, spec):
        """The value placeholder of an option ('' for a flag)."""
        parts = spec.split()
        if len(parts) < 2 or parts[1].startswith("[") or parts[1] == "...":
            return ""
        return parts[1]


# ---------------------------------------------------------------- man pages

def roff(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text[:1] in (".", "'"):
        text = "\\&" + text
    return text


def verbatim(lines):
    out = [".nf"]
    out += [roff(l) if l.strip() else "" for l in lines]
    out.append(".fi")
    return out


def first_sentence(description):
    line = description[0] if description else ""
    if line.startswith("dsm: "):
        line = line[len("dsm: "):]
    return line.rstrip(".:")


def man_page(title, name, summary, h, version, date, see_also):
    out = [f'.TH "{title.upper()}" "1" "{date}" "dsm {version}" "dsm manual"',
           ".SH NAME", f"{roff(name)} \\- {roff(summary)}",
           ".SH SYNOPSIS", f".B {roff(h.usage.split(' ')[0])}", roff(" ".join(h.usage.split(" ")[1:])),
           ".SH DESCRIPTION"]
    out += verbatim(h.description)
    if h.groups:
        out.append(".SH COMMANDS")
        for group, commands in h.groups:
            out.append(f'.SS "{roff(group)}"')
            for command, text in commands:
                out += [".TP", f"\\fB{roff(command)}\\fR", roff(text)]
    for label, rows in (("ARGUMENTS", h.positionals), ("OPTIONS", h.options), ("COMMANDS", h.subcommands)):
        if not rows:
            continue
        out.append(f".SH {label}")
        for spec, text in rows:
            words = spec.split()
            head = "\\fB" + roff(words[0]).replace(",", "\\fR, \\fB") + "\\fR"
            if len(words) > 1:
                head += " \\fI" + roff(" ".join(words[1:])) + "\\fR"
            out += [".TP", head, roff(text)]
    for section, lines in h.sections:
        while lines and not lines[-1].strip():
            lines = lines[:-1]
        if not lines:
            continue
        out.append(f".SH {section or 'NOTES'}")
        out += verbatim(lines)
    out.append(".SH SEE ALSO")
    out.append(", ".join(f"\\fB{roff(p)}\\fR(1)" for p in see_also))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- completion

def kind_of_value(name, value):
    """What an option's value or a positional completes to: datasets, remotes, files or nothing."""
    if name in ("--remote",):
        return "remotes"
    if name in ("--name",):
        return "datasets"
    if value in ("DIR",) or name in ("-C", "--data-dir"):
        return "dirs"
    if value in ("N", "LEVEL", "SIZE", "R", "URL", "TEXT", "KEY=VALUE") or value.startswith(("N:", "UINT", "INT")):
        return "none"
    return "files" if value else ""


def positional_kind(spec, text):
    name = spec.split()[0]
    names_a_dataset = name in ("TARGET", "NAME") or "NAME" in text
    names_a_file = name == "FILE" or re.search(r"\b(file|path)\b", text) is not None
    if names_a_dataset and names_a_file:
        return "targets"  # dataset names and files
    if names_a_dataset:
        return "datasets"
    if names_a_file:
        return "files"
    if name == "URL":
        return "dirs"
    return "none"


def collect(dsm, commands):
    """Per command path ('add', 'remote add'): options, value kinds, positional kind, subcommands."""
    table = {}

    def visit(path):
        h = Help(run_help(dsm, path.split()))
        values = {}
        for spec, _ in h.options:
            value = h.option_value(spec)
            for n in spec.split()[0].split(","):
                kind = kind_of_value(n, value)
                if kind:
                    values[n] = kind
        subs = [s for s, _ in h.subcommands]
        pos = positional_kind(*h.positionals[0]) if h.positionals else "none"
        table[path] = {"help": h, "options": h.option_names(), "values": values, "subs": subs, "pos": pos}
        for s in subs:
            visit(path + " " + s)

    for c in commands:
        visit(c)
    # remote names: 'dsm remote remove NAME'
    if "remote remove" in table:
        table["remote remove"]["pos"] = "remotes"
    if "remote add" in table:  # a new remote's name
        table["remote add"]["pos"] = "none"
    return table


def bash_completion(top, table, commands):
    case_opts, case_vals, case_pos, case_subs = [], [], [], []
    for path, t in sorted(table.items()):
        key = path.replace(" ", "_")
        case_opts.append(f'    {key}) opts="{" ".join(t["options"])}" ;;')
        vals = " ".join(f"{o}={k}" for o, k in sorted(t["values"].items()))
        case_vals.append(f'    {key}) vals="{vals}" ;;')
        case_pos.append(f'    {key}) pos="{t["pos"]}" ;;')
        if t["subs"]:
            case_subs.append(f'    {key}) subs="{" ".join(t["subs"])}" ;;')
    global_vals = " ".join(f"{o}={k}" for o, k in sorted(top["values"].items()))
    nl = "\n"
    return f"""# bash completion for dsm, generated from 'dsm --help' by packaging/gen_cli_docs.py
# Completes commands, their options and subcommands, dataset names (from
# 'dsm ls --json') and remote names (from 'dsm remote list').

_dsm_datasets() {{
  command dsm "${{_dsm_global[@]}}" ls --json --offline 2>/dev/null |
    sed -n 's/^    "name": "\\(.*\\)",\\{{0,1\\}}$/\\1/p'
}}

_dsm_remotes() {{
  command dsm "${{_dsm_global[@]}}" remote list 2>/dev/null | awk '{{print $1}}'
}}

_dsm_complete_kind() {{
  local kind="$1" cur="$2"
  case "$kind" in
    datasets) local IFS=$'\\n'; COMPREPLY=($(compgen -W "$(_dsm_datasets)" -- "$cur")) ;;
    targets) local IFS=$'\\n'; COMPREPLY=($(compgen -W "$(_dsm_datasets)" -- "$cur") $(compgen -f -- "$cur")) ;;
    remotes) COMPREPLY=($(compgen -W "$(_dsm_remotes)" -- "$cur")) ;;
    dirs) COMPREPLY=($(compgen -d -- "$cur")) ;;
    files) COMPREPLY=($(compgen -f -- "$cur")) ;;
    *) COMPREPLY=() ;;
  esac
}}

_dsm() {{
  local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}"
  local -a _dsm_global=()
  local path="" i=1 w
  # global options (before or after the command) and the command path
  while [ "$i" -lt "$COMP_CWORD" ]; do
    w="${{COMP_WORDS[i]}}"
    case "$w" in
      -C) _dsm_global+=(-C "${{COMP_WORDS[i+1]}}"); i=$((i + 2)); continue ;;
      -*) ;;
      *)
        local subs=""
        case "${{path// /_}}" in
          "") subs="{" ".join(commands)}" ;;
{nl.join("  " + s for s in case_subs)}
        esac
        case " $subs " in *" $w "*) path="${{path:+$path }}$w" ;; esac
        ;;
    esac
    i=$((i + 1))
  done
  local key="${{path// /_}}" opts="" vals="" pos="none" subs=""
  case "$key" in
    "") opts="{" ".join(top["options"])}"; vals="{global_vals}"; subs="{" ".join(commands)}" ;;
{nl.join(case_opts)}
  esac
  case "$key" in
{nl.join(case_vals)}
  esac
  case "$key" in
{nl.join(case_pos)}
  esac
  case "$key" in
{nl.join(case_subs)}
  esac
  vals="$vals {global_vals}"
  local v
  for v in $vals; do
    if [ "$prev" = "${{v%%=*}}" ]; then _dsm_complete_kind "${{v#*=}}" "$cur"; return; fi
  done
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts -C -q --quiet" -- "$cur"))
  elif [ -n "$subs" ]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
  else
    _dsm_complete_kind "$pos" "$cur"
  fi
}}
complete -o filenames -F _dsm dsm
"""


def zsh_quote(text):
    return text.replace("'", "'\\''").replace("[", "\\[").replace("]", "\\]").replace(":", "\\:")


def zsh_completion(top, table, commands):
    funcs = []
    action = {"datasets": "_dsm_datasets", "remotes": "_dsm_remotes",
              "targets": "_dsm_targets", "dirs": "_files -/", "files": "_files",
              "none": " ", "": ""}

    def spec_lines(path):
        t = table[path]
        h = t["help"]
        lines = []
        for spec, text in h.options:
            names = [n for n in spec.split()[0].split(",") if n.startswith("-")]
            value = h.option_value(spec)
            desc = zsh_quote(text[:100])
            excl = "(" + " ".join(names) + ")" if len(names) > 1 else ""
            kind = t["values"].get(names[0], "")
            tail = f":{value.lower()}:{action[kind]}" if kind else ""
            group = "{" + ",".join(names) + "}" if len(names) > 1 else names[0]
            lines.append(f"    '{excl}'{group}'[{desc}]{tail}'" if excl else f"    '{group}[{desc}]{tail}'")
        return lines

    def fn(path):
        t = table[path]
        name = "_dsm_cmd_" + path.replace(" ", "_").replace("-", "_")
        body = spec_lines(path)
        if t["subs"]:
            subs = " ".join(f"'{s}:{zsh_quote(table[path + ' ' + s]['help'].description[0] if table[path + ' ' + s]['help'].description else s)}'" for s in t["subs"])
            body.append("    '1:command:->sub'")
            body.append("    '*::arg:->args'")
            joined = " \\\n".join(body)
            dispatch = "\n".join(f"      {s}) {'_dsm_cmd_' + (path + ' ' + s).replace(' ', '_').replace('-', '_')} ;;" for s in t["subs"])
            text = f"""{name}() {{
  local curcontext="$curcontext" state line
  _arguments -C \\
{joined}
  case $state in
    sub) local -a subs; subs=({subs}); _describe command subs ;;
    args)
      case $line[1] in
{dispatch}
      esac ;;
  esac
}}"""
        else:
            pos = action[t["pos"]].strip()
            body.append(f"    '*:argument:{pos or ' '}'")
            joined = " \\\n".join(body)
            text = f"""{name}() {{
  _arguments \\
{joined}
}}"""
        funcs.append(text)
        for s in t["subs"]:
            fn(path + " " + s)

    for c in commands:
        fn(c)
    describe = " ".join(f"'{c}:{zsh_quote(table[c]['help'].description[0] if table[c]['help'].description else c)}'" for c in commands)
    dispatch = "\n".join(f"    {c}) _dsm_cmd_{c.replace('-', '_')} ;;" for c in commands)
    nl = "\n\n"
    return f"""#compdef dsm
# zsh completion for dsm, generated from 'dsm --help' by packaging/gen_cli_docs.py

_dsm_datasets() {{
  local -a names
  names=(${{(f)"$(command dsm ls --json --offline 2>/dev/null | sed -n 's/^    "name": "\\(.*\\)",\\{{0,1\\}}$/\\1/p')"}})
  _describe dataset names
}}

_dsm_targets() {{
  _alternative 'datasets:dataset:_dsm_datasets' 'files:file:_files'
}}

_dsm_remotes() {{
  local -a names
  names=(${{(f)"$(command dsm remote list 2>/dev/null | awk '{{print $1}}')"}})
  _describe remote names
}}

{nl.join(funcs)}

_dsm() {{
  local curcontext="$curcontext" state line
  _arguments -C \\
    '-C[run as if dsm was started in DIR]:directory:_files -/' \\
    '(-q --quiet)'{{-q,--quiet}}'[print only errors]' \\
    '(- *)'{{-h,--help}}'[print help]' \\
    '(- *)--version[print the version]' \\
    '1:command:->command' \\
    '*::arg:->args'
  case $state in
    command) local -a commands; commands=({describe}); _describe command commands ;;
    args)
      case $line[1] in
{dispatch}
      esac ;;
  esac
}}

_dsm "$@"
"""


def write_if_changed(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        if open(path, encoding="utf-8").read() == text:
            return
    except FileNotFoundError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    dsm, commands_cpp, out = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
    commands = command_table(commands_cpp)
    version = subprocess.run([dsm, "--version"], capture_output=True, text=True,
                             env=dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "detect_leaks=0"))
                             ).stdout.split()[-1]
    # SOURCE_DATE_EPOCH (reproducible builds) or today
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch else datetime.datetime.now(
        datetime.timezone.utc)
    date = when.strftime("%Y-%m-%d")
    top = Help(run_help(dsm, []))
    top_values = {}
    for spec, _ in top.options:
        for n in spec.split()[0].split(","):
            kind = kind_of_value(n, top.option_value(spec))
            if kind:
                top_values[n] = kind
    top_info = {"options": top.option_names(), "values": top_values}
    table = collect(dsm, commands)

    man_dir = os.path.join(out, "man", "man1")
    pages = ["dsm-" + c for c in commands]
    wanted = {"dsm.1"} | {p + ".1" for p in pages}
    write_if_changed(os.path.join(man_dir, "dsm.1"),
                     man_page("dsm", "dsm", first_sentence(top.description), top, version, date, pages))
    for c in commands:
        h = table[c]["help"]
        text = man_page("dsm-" + c, "dsm-" + c, first_sentence(h.description), h, version, date,
                        ["dsm"] + [p for p in pages if p != "dsm-" + c])
        # subcommands (dsm remote add, ...) get their own sections in the command's page
        extra = []
        for path in sorted(p for p in table if p.startswith(c + " ")):
            sh = table[path]["help"]
            extra.append(f'.SH "DSM {roff(path.upper())}"')
            extra.append(f".B dsm {roff(sh.usage.split(' ', 1)[1] if ' ' in sh.usage else sh.usage)}")
            extra += verbatim(["", *sh.description])
            for spec, otext in sh.positionals + sh.options:
                extra += [".TP", "\\fB" + roff(spec) + "\\fR", roff(otext)]
        if extra:
            text = text.replace(".SH SEE ALSO", "\n".join(extra) + "\n.SH SEE ALSO", 1)
        write_if_changed(os.path.join(man_dir, f"dsm-{c}.1"), text)
    for stale in set(os.listdir(man_dir)) - wanted:  # a command that was removed from the table
        if stale.endswith(".1"):
            os.remove(os.path.join(man_dir, stale))
    write_if_changed(os.path.join(out, "completion", "bash", "dsm"), bash_completion(top_info, table, commands))
    write_if_changed(os.path.join(out, "completion", "zsh", "_dsm"), zsh_completion(top_info, table, commands))


if __name__ == "__main__":
    main()
