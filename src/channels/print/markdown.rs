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
}
