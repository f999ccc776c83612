//! Short or long form, and the figures table each scenario prints.

use std::fmt::Write;

/// `RELIABILITY_LONG=1` (or `true`) selects the long form.
pub fn long() -> bool {
    matches!(
        std::env::var("RELIABILITY_LONG").as_deref(),
        Ok("1") | Ok("true") | Ok("yes")
    )
}

/// Picks the short or the long figure.
pub fn pick<T>(short: T, long_form: T) -> T {
    if long() { long_form } else { short }
}

/// A titled two-column table, printed to stderr (cargo shows it with `--nocapture`) and
/// appended to `target/reliability/figures.md` so a long run leaves its table behind.
#[derive(Default)]
pub struct Figures {
    title: String,
    rows: Vec<(String, String)>,
}

impl Figures {
    pub fn new(title: &str) -> Figures {
        Figures {
            title: title.into(),
            rows: vec![],
        }
    }

    pub fn row(&mut self, name: &str, value: impl std::fmt::Display) -> &mut Self {
        self.rows.push((name.into(), value.to_string()));
        self
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        let form = if long() { "long" } else { "short" };
        let _ = writeln!(s, "\n#### {} ({form} form)\n", self.title);
        let _ = writeln!(s, "| figure | value |\n|---|---|");
        for (k, v) in &self.rows {
            let _ = writeln!(s, "| {k} | {v} |");
        }
        s
    }

    pub fn print(&self) {
        let text = self.render();
        eprintln!("{text}");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/reliability");
        if std::fs::create_dir_all(&dir).is_ok() {
            use std::io::Write as _;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join("figures.md"))
            {
                let _ = f.write_all(text.as_bytes());
            }
        }
    }
}
