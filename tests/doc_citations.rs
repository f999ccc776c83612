//! The docs enforce themselves: every citation of a page under `docs/` names a file that exists,
//! every `§N` of it names a numbered heading of that file, and nothing points outside the
//! repository (issue 21, part 4).
//!
//! Checked in every text file of the scanned trees:
//! - `docs/<page>.md §N` (also as a Markdown link `[docs/<page>.md](…) §N` or, in Markdown,
//!   `[page](relative/page.md) §N`; across a comment line break; with continuations such as
//!   `§3.1, §3.9` or `§2.1–§2.4`): the page exists and has a heading numbered `N` (`## 3. …`,
//!   `### 3.9 …`, `#### 4.1.10 …`, `## §3 …`);
//! - any other `docs/<page>.md` mention and every relative `.md` link in a Markdown file: the
//!   file exists;
//! - a bare `§N` that no page name heads: allowed inside a `docs/` page (its own sections, which
//!   must exist); anywhere else it is an error, because a reader cannot tell which page it means;
//! - the retired names of the API and design notes and paths outside the repository never appear.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// This file: its examples of broken citations are on purpose.
const SELF: &str = "tests/doc_citations.rs";
const SCANNED: &[&str] = &[
    "src",
    "tests",
    "docs",
    "charts",
    "crds",
    "deploy",
    "examples",
    "health",
    "README.md",
];
/// Pages that must always be cited with their `docs/` path.
const PAGES: &[&str] = &["tyk-dashboard-api.md", "kubernetes-api.md"];
/// Never to appear (spelled in pieces so that a search of the tree finds only real uses).
const FORBIDDEN: &[(&str, &str)] = &[
    (
        concat!("kube-api-", "emulator.md"),
        "retired name: cite docs/kubernetes-api.md",
    ),
    (
        concat!("/wo", "rk/"),
        "a machine path: cite a file of the repository",
    ),
    (
        concat!("../", "shared"),
        "a path outside the repository: cite a file of the repository",
    ),
    (
        concat!("DESIGN", ".md"),
        "the team's design notes are not in the repository: cite docs/design.md",
    ),
    (
        concat!("DESIGN", " §"),
        "the team's design notes are not in the repository: cite docs/design.md",
    ),
    (
        concat!("STYLE", " §"),
        "the team's style notes are not in the repository: cite a page under docs/",
    ),
];
/// Where a path outside the repository is the point, not a citation: the Tyk contract suite
/// reads Tyk's own OpenAPI files from `../shared/reference/` beside the checkout, where CI puts
/// them (issue 25; they stay Tyk's files, not copied into the repository).
const OUTSIDE_ALLOWED: &[(&str, &str)] = &[
    (
        "tests/emulators/tyk-dashboard/tests/contract/",
        concat!("../", "shared/reference"),
    ),
    (
        "tests/emulators/tyk-dashboard/README.md",
        concat!("../", "shared/reference"),
    ),
];

#[derive(Default)]
struct Report {
    errors: Vec<String>,
    citations: usize,
}

impl Report {
    fn error(&mut self, file: &str, text: &str, at: usize, what: String) {
        let line = text[..at].matches('\n').count() + 1;
        self.errors.push(format!("{file}:{line}: {what}"));
    }
}

/// Reads the files a test checks, relative to `root`.
trait Tree {
    fn read(&self, rel: &str) -> Option<String>;
}

struct Disk<'a>(&'a Path);

impl Tree for Disk<'_> {
    fn read(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.0.join(rel)).ok()
    }
}

/// The numbers of a page's numbered headings: `## 10. Quirks` → `10`, `### 4.1.3 Merge` → `4.1.3`.
fn heading_numbers(page: &str) -> BTreeSet<String> {
    let mut fence = false;
    let mut out = BTreeSet::new();
    for line in page.lines() {
        if line.trim_start().starts_with("```") {
            fence = !fence;
        }
        if fence || !line.starts_with('#') {
            continue;
        }
        let rest = line.trim_start_matches('#').trim_start();
        let rest = rest.strip_prefix('§').unwrap_or(rest);
        let (number, after) = section_number(rest);
        if !number.is_empty() {
            let after = after.strip_prefix('.').unwrap_or(after);
            if after.is_empty() || after.starts_with(' ') {
                out.insert(number.to_string());
            }
        }
    }
    out
}

/// A leading `3`, `3.6` or `4.1.10`; a trailing `.` (end of sentence) is not part of it.
fn section_number(s: &str) -> (&str, &str) {
    let b = s.as_bytes();
    let mut end = 0;
    while end < b.len() && b[end].is_ascii_digit() {
        end += 1;
    }
    if end == 0 {
        return ("", s);
    }
    while end + 1 < b.len() && b[end] == b'.' && b[end + 1].is_ascii_digit() {
        end += 1;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
    }
    (&s[..end], &s[end..])
}

/// Skips spaces and line breaks together with the comment leader of the next line
/// (`//`, `///`, `//!`, `#`, `--`, `*`), so a citation may wrap inside a comment.
fn skip_blank(text: &str, mut at: usize) -> usize {
    loop {
        let rest = &text[at..];
        let trimmed = rest.trim_start_matches([' ', '\t']);
        at += rest.len() - trimmed.len();
        if !trimmed.starts_with('\n') {
            return at;
        }
        at += 1;
        let line = &text[at..];
        let body = line.trim_start_matches([' ', '\t']);
        let leader = ["//!", "///", "//", "--", "#", "*"]
            .iter()
            .find(|l| body.starts_with(**l))
            .map_or(0, |l| l.len());
        at += line.len() - body.len() + leader;
    }
}

/// Checks `§N` at `at` (just after the `§`) against `sections`, then any continuation
/// (`, §M`, `–§M`, `/§M`, `; §M`, ` and §M`). Marks every `§` it consumed.
fn check_sections(
    ctx: (&str, &str, &str),
    sections: &BTreeSet<String>,
    mut at: usize,
    consumed: &mut BTreeSet<usize>,
    report: &mut Report,
) {
    let (file, text, page) = ctx;
    loop {
        consumed.insert(at - '§'.len_utf8());
        let (number, _) = section_number(&text[at..]);
        report.citations += 1;
        if !sections.contains(number) {
            report.error(file, text, at, format!("{page} has no section §{number}"));
        }
        at += number.len();
        let mut next = skip_qualifier(text, skip_blank(text, at));
        for sep in [",", "–", "-", "/", ";", "and", "or"] {
            if text[next..].starts_with(sep) {
                next = skip_blank(text, next + sep.len());
                break;
            }
        }
        match section_at(text, next) {
            Some(after) => at = after,
            None => return,
        }
    }
}

/// Skips a short qualifier after a section number: `(b)`, `[?]`, `Must 5`, `Should 6`.
fn skip_qualifier(text: &str, at: usize) -> usize {
    let rest = &text[at..];
    let len = if let Some(quoted) = rest.strip_prefix('"') {
        quoted
            .find('"')
            .filter(|end| *end <= 60)
            .map_or(0, |end| end + 2)
    } else if rest.starts_with('(') {
        rest.find(')')
            .filter(|end| *end <= 4)
            .map_or(0, |end| end + 1)
    } else if rest.starts_with("[?]") || rest.starts_with("[I]") {
        3
    } else {
        ["Must ", "Should "]
            .iter()
            .find(|word| rest.starts_with(**word))
            .map_or(0, |word| {
                let digits = rest[word.len()..]
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len() - word.len());
                if digits > 0 { word.len() + digits } else { 0 }
            })
    };
    if len == 0 {
        at
    } else {
        skip_blank(text, at + len)
    }
}

/// The position just after `§` when `at` starts a `§<digit>…` citation.
fn section_at(text: &str, at: usize) -> Option<usize> {
    let rest = text[at..].strip_prefix('§')?;
    rest.starts_with(|c: char| c.is_ascii_digit())
        .then_some(at + '§'.len_utf8())
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')
}

fn check_file(tree: &dyn Tree, file: &str, text: &str, report: &mut Report) {
    for (needle, why) in FORBIDDEN {
        for (at, _) in text.match_indices(needle) {
            let allowed = OUTSIDE_ALLOWED
                .iter()
                .any(|(prefix, path)| file.starts_with(prefix) && text[at..].starts_with(path));
            if !allowed {
                report.error(file, text, at, format!("`{needle}`: {why}"));
            }
        }
    }
    let in_docs = file.starts_with("docs/");
    for page in PAGES {
        for (at, _) in text.match_indices(page) {
            let before = &text[..at];
            let link_text = before.ends_with('[') && text[at + page.len()..].starts_with("](");
            let linked = before.ends_with('/') || link_text || (in_docs && before.ends_with('('));
            if !linked {
                report.error(file, text, at, format!("cite `{page}` as `docs/{page}`"));
            }
        }
    }

    let mut consumed = BTreeSet::new();
    // `docs/<page>.md`, optionally followed by `§N…`.
    for (at, _) in text.match_indices("docs/") {
        let boundary = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !is_path_char(c) && c != ':');
        if !boundary {
            continue;
        }
        let path_len = text[at..]
            .find(|c: char| !is_path_char(c))
            .unwrap_or(text.len() - at);
        let path = text[at..at + path_len].trim_end_matches('.');
        if !path.ends_with(".md") {
            continue;
        }
        let Some(page) = tree.read(path) else {
            report.error(file, text, at, format!("`{path}` does not exist"));
            continue;
        };
        let mut next = at + path.len();
        next += usize::from(text[next..].starts_with('`'));
        if let Some(link) = text[next..].strip_prefix("](") {
            next += 2 + link.find(')').map_or(0, |end| end + 1);
        }
        if let Some(at) = section_at(text, skip_blank(text, next)) {
            let sections = heading_numbers(&page);
            check_sections((file, text, path), &sections, at, &mut consumed, report);
        }
    }

    // Relative links between Markdown files.
    if file.ends_with(".md") {
        let dir = Path::new(file).parent().unwrap_or(Path::new(""));
        for (at, _) in text.match_indices("](") {
            let target = &text[at + 2..];
            let Some(end) = target.find([')', ' ']) else {
                continue;
            };
            let target = target[..end].split('#').next().unwrap_or("");
            if !target.ends_with(".md") || target.contains("://") {
                continue;
            }
            let joined = normalize(&dir.join(target));
            let Some(page) = tree.read(&joined) else {
                report.error(file, text, at, format!("link to `{target}`: no such file"));
                continue;
            };
            // `[page](page.md) §N` cites a section of the linked page.
            let next = skip_blank(text, at + 2 + end + 1);
            if let Some(at) = section_at(text, next)
                && !consumed.contains(&next)
            {
                let sections = heading_numbers(&page);
                check_sections((file, text, &joined), &sections, at, &mut consumed, report);
            }
        }
    }

    // Bare `§N` that no page name heads.
    let own = in_docs.then(|| heading_numbers(text));
    for (at, _) in text.match_indices('§') {
        let after = at + '§'.len_utf8();
        if consumed.contains(&at) || !text[after..].starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let (number, _) = section_number(&text[after..]);
        if let Some(own) = &own {
            check_sections((file, text, file), own, after, &mut consumed, report);
            continue;
        }
        report.error(
            file,
            text,
            at,
            format!("bare §{number}: name the page, e.g. `docs/tyk-dashboard-api.md §{number}`"),
        );
    }
}

fn normalize(path: &Path) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.iter().filter_map(|p| p.to_str()) {
        match part {
            "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn scanned_files(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    walk(root, &path, out);
                }
            } else if let Ok(rel) = path.strip_prefix(root) {
                let rel = rel.to_string_lossy().replace('\\', "/");
                if rel != SELF {
                    out.push(rel);
                }
            }
        }
    }
    let mut out = Vec::new();
    for scanned in SCANNED {
        let path = root.join(scanned);
        if path.is_dir() {
            walk(root, &path, &mut out);
        } else if path.is_file() {
            out.push((*scanned).to_string());
        }
    }
    out.sort();
    out
}

fn check_tree(tree: &dyn Tree, files: &[String]) -> Report {
    let mut report = Report::default();
    for file in files {
        if let Some(text) = tree.read(file) {
            check_file(tree, file, &text, &mut report);
        }
    }
    report
}

#[test]
fn every_doc_citation_resolves_inside_the_repository() {
    let root = PathBuf::from(ROOT);
    let files = scanned_files(&root);
    let report = check_tree(&Disk(&root), &files);
    assert!(
        report.errors.is_empty(),
        "{} citation problem(s):\n{}",
        report.errors.len(),
        report.errors.join("\n")
    );
    // The API pages are cited throughout the code and the emulators; if this drops to nothing
    // the scanner has stopped seeing them.
    assert!(
        report.citations > 300,
        "only {} citations found",
        report.citations
    );
}

/// An in-memory tree, to show that the check fails where it should.
struct Fake(Vec<(&'static str, &'static str)>);

impl Tree for Fake {
    fn read(&self, rel: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(path, _)| *path == rel)
            .map(|(_, text)| text.to_string())
    }
}

fn errors_of(file: &'static str, text: &'static str) -> Vec<String> {
    let page = "# Page\n\n## 3. Users\n\n### 3.6 Reset\n\n#### 4.1.10 Reset fields\n";
    let tree = Fake(vec![("docs/tyk-dashboard-api.md", page), (file, text)]);
    check_tree(&tree, &[file.to_string()]).errors
}

#[test]
fn the_check_accepts_resolving_citations() {
    let ok = [
        "// See docs/tyk-dashboard-api.md §3.6 (b), §3 and §4.1.10.",
        "/// Wrapped (docs/tyk-dashboard-api.md\n    /// §3.6–§3).",
        "| x | [docs/tyk-dashboard-api.md](docs/tyk-dashboard-api.md) §3.6 |",
        "// (docs/tyk-dashboard-api.md §3 \"users\"; §3.6)",
        "no section sign here",
    ];
    for text in ok {
        assert_eq!(errors_of("src/a.rs", text), Vec::<String>::new(), "{text}");
    }
    let md = "| [tyk-dashboard-api.md](../docs/tyk-dashboard-api.md) §3.6, §3 |";
    assert_eq!(errors_of("src/a.md", md), Vec::<String>::new(), "{md}");
}

#[test]
fn the_check_fails_on_broken_or_outside_citations() {
    let cases = [
        ("// docs/tyk-dashboard-api.md §9.9", "has no section §9.9"),
        ("// docs/tyk-dashboard-api.md §3.6, §7", "has no section §7"),
        ("// docs/missing.md §1", "`docs/missing.md` does not exist"),
        (
            "// (tyk-dashboard-api.md §3.6)",
            "cite `tyk-dashboard-api.md` as",
        ),
        (concat!("// kube-api-", "emulator.md §2.1"), "retired name"),
        (
            concat!("// see /wo", "rk/shared/notes.md"),
            "a machine path",
        ),
        (concat!("[x](../", "shared/x.md)"), "outside the repository"),
        ("// an unattributed (§3.6)", "bare §3.6"),
        (concat!("// (DESIGN", " §3.2)"), "cite docs/design.md"),
        (concat!("// (§3.3 of DESIGN", ".md)"), "cite docs/design.md"),
        (
            concat!("// (STYLE", " §6)"),
            "style notes are not in the repository",
        ),
    ];
    for (text, expected) in cases {
        let errors = errors_of("src/a.rs", text);
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{text:?} should fail with {expected:?}, got {errors:?}"
        );
    }
    let errors = errors_of("docs/b.md", "[the page](tyk-dashboard-api.md) §3.7");
    assert!(
        errors.iter().any(|e| e.contains("has no section §3.7")),
        "{errors:?}"
    );
    let errors = errors_of("docs/b.md", "See [the page](c.md) and §2.");
    assert!(
        errors.iter().any(|e| e.contains("link to `c.md`")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("no section §2")),
        "{errors:?}"
    );
}
