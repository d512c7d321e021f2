//! The Markdown subset letter bodies may use: paragraphs (blank-line separated), "- " lists
//! and `**bold**`. Everything else is plain text.

/// A stretch of text, bold or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub text: String,
    pub bold: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Paragraph(Vec<Run>),
    /// One list; each item is its text.
    List(Vec<Vec<Run>>),
}

/// Split a body into paragraphs and lists. Lines inside a paragraph (or a list item's
/// indented continuation lines) are joined with a space.
pub fn parse(body: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut items: Vec<String> = Vec::new();

    fn flush_paragraph(blocks: &mut Vec<Block>, paragraph: &mut Vec<&str>) {
        if !paragraph.is_empty() {
            blocks.push(Block::Paragraph(inline(&paragraph.join(" "))));
            paragraph.clear();
        }
    }
    fn flush_list(blocks: &mut Vec<Block>, items: &mut Vec<String>) {
        if !items.is_empty() {
            blocks.push(Block::List(items.iter().map(|i| inline(i)).collect()));
            items.clear();
        }
    }

    for raw in body.lines() {
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            flush_paragraph(&mut blocks, &mut paragraph);
            flush_list(&mut blocks, &mut items);
        } else if let Some(item) = trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("* ")) {
            flush_paragraph(&mut blocks, &mut paragraph);
            items.push(item.trim().to_owned());
        } else if let Some(last) = items.last_mut().filter(|_| line.starts_with(' ') || line.starts_with('\t')) {
            last.push(' ');
            last.push_str(trimmed);
        } else {
            flush_list(&mut blocks, &mut items);
            paragraph.push(trimmed);
        }
    }
    flush_paragraph(&mut blocks, &mut paragraph);
    flush_list(&mut blocks, &mut items);
    blocks
}

/// `**` toggles bold; an unpaired last `**` is kept as text.
pub fn inline(text: &str) -> Vec<Run> {
    let parts: Vec<&str> = text.split("**").collect();
    let markers = parts.len() - 1;
    let mut runs: Vec<Run> = Vec::new();
    let mut push = |text: &str, bold: bool| {
        if text.is_empty() {
            return;
        }
        match runs.last_mut() {
            Some(last) if last.bold == bold => last.text.push_str(text),
            _ => runs.push(Run { text: text.to_owned(), bold }),
        }
    };
    for (i, part) in parts.iter().enumerate() {
        let unpaired = markers % 2 == 1 && i == markers;
        if unpaired {
            push("**", false);
        }
        push(part, i % 2 == 1 && !unpaired);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(t: &str) -> Run {
        Run { text: t.into(), bold: false }
    }
    fn bold(t: &str) -> Run {
        Run { text: t.into(), bold: true }
    }

    #[test]
    fn paragraphs_lists_and_bold() {
        let blocks = parse("Du får **boligstøtte**\nfra januar.\n\n- én\n- to\n  fortsat\nEfter listen.\n");
        assert_eq!(
            blocks,
            vec![
                Block::Paragraph(vec![plain("Du får "), bold("boligstøtte"), plain(" fra januar.")]),
                Block::List(vec![vec![plain("én")], vec![plain("to fortsat")]]),
                Block::Paragraph(vec![plain("Efter listen.")]),
            ]
        );
    }

    #[test]
    fn an_unpaired_marker_stays_text() {
        assert_eq!(inline("a **b** c ** d"), vec![plain("a "), bold("b"), plain(" c ** d")]);
        assert_eq!(inline("**"), vec![plain("**")]);
        assert!(parse("  \n\n").is_empty());
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn config() -> ProptestConfig {
            let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
            ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
        }

        /// Bodies made of the subset's own markup, hostile characters and ordinary text.
        fn body() -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                3 => "\\PC{0,10}",
                2 => prop::sample::select(vec![
                    "**", "*", "***", "- ", "* ", "-", "\n", "\n\n", "\r\n", " ", "  ", "\t", "\u{0}",
                    "\u{202E}", "\u{2028}", "\u{85}", "<b>", "# ", "`", "\u{FEFF}", "æøå", "👩‍👩‍👧",
                ])
                .prop_map(str::to_owned),
            ];
            prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
        }

        fn all_runs(blocks: &[Block]) -> Vec<&Run> {
            blocks
                .iter()
                .flat_map(|block| match block {
                    Block::Paragraph(runs) => runs.iter().collect::<Vec<_>>(),
                    Block::List(items) => items.iter().flatten().collect(),
                })
                .collect()
        }

        /// What a reader sees of `text`: neither markup stars nor white space.
        fn visible(text: &str) -> String {
            text.chars().filter(|c| *c != '*' && !c.is_whitespace()).collect()
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn structure_comes_only_from_the_subsets_markup(body in body()) {
                let blocks = parse(&body);
                // nothing lost, nothing invented: the visible characters survive in order
                let expected: String = body
                    .lines()
                    .map(|line| {
                        let trimmed = line.trim();
                        match trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("* ")) {
                            Some(item) => visible(item),
                            None => visible(trimmed),
                        }
                    })
                    .collect();
                let got: String = all_runs(&blocks).iter().map(|r| visible(&r.text)).collect();
                prop_assert_eq!(got, expected);
                for run in all_runs(&blocks) {
                    prop_assert!(!run.text.is_empty());
                    prop_assert!(!run.text.contains(['\n', '\r']), "a run spans lines: {:?}", run.text);
                    prop_assert!(!(run.bold && run.text.contains("**")), "markup inside bold: {:?}", run.text);
                }
                // bold needs a pair of markers, a list needs a line that starts like an item
                if !body.contains("**") {
                    prop_assert!(all_runs(&blocks).iter().all(|r| !r.bold));
                }
                let item_lines = body
                    .lines()
                    .filter(|l| { let t = l.trim(); t.starts_with("- ") || t.starts_with("* ") })
                    .count();
                let items: usize = blocks.iter().map(|b| match b { Block::List(items) => items.len(), _ => 0 }).sum();
                prop_assert_eq!(items, item_lines);
            }

            #[test]
            fn inline_never_panics_and_keeps_every_character(text in any::<String>()) {
                let runs = inline(&text);
                let joined: String = runs.iter().map(|r| r.text.replace('*', "")).collect();
                prop_assert_eq!(joined, text.replace('*', ""));
            }
        }
    }
}
