//! CSV downloads (RFC 4180), the same way everywhere: every cell is quoted — so a spreadsheet
//! that splits on `;` (Excel in many locales) still sees one cell — and a cell a spreadsheet
//! would read as a formula (`=`, `+`, `-`, `@` or their full-width forms first, after any
//! spaces, or a tab or line break first) is written with a `'` before it, so an email or a team
//! name cannot run anything in whoever opens the export. Lines end in CRLF.

/// Appends one line of `cells`.
pub fn line<'a>(out: &mut String, cells: impl IntoIterator<Item = &'a str>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&cell_text(cell));
    }
    out.push_str("\r\n");
}

fn cell_text(cell: &str) -> String {
    let formula = matches!(cell.chars().next(), Some('\t' | '\r' | '\n'))
        || matches!(
            cell.trim_start().chars().next(),
            Some('=' | '+' | '-' | '@' | '＝' | '＋' | '－' | '＠')
        );
    let guarded = if formula {
        format!("'{cell}")
    } else {
        cell.to_owned()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::{cell_text, line};

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        let mut out = String::new();
        line(&mut out, ["a \"b\"", "c"]);
        assert_eq!(out, "\"a \"\"b\"\"\",\"c\"\r\n");
        for sly in ["  =1+1", "a;=cmd", "＝1", "\t=1", "-2"] {
            let text = cell_text(sly);
            assert!(text.starts_with('"') && text.ends_with('"'), "{text}");
            if sly != "a;=cmd" {
                assert!(text.starts_with("\"'"), "{sly:?} → {text}");
            }
        }
    }
}
