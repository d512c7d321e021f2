//! A small namespace-aware XML tree on top of quick-xml: enough to read and write MeMo
//! messages and SF1601 requests. Whitespace-only text between elements is dropped on reading
//! (it carries nothing in these formats); the text of leaf elements is kept exactly.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    #[error("malformed XML: {0}")]
    Malformed(String),
}

/// One element: its namespace URI and local name, attributes (qualified name as written, value)
/// without namespace declarations, child elements and text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct XmlElement {
    pub namespace: String,
    pub name: String,
    /// The prefix it was read with: reused on writing when the namespace has no known prefix.
    pub prefix: Option<String>,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<XmlElement>,
    pub text: String,
    /// Namespaces to declare on this element when writing (unless already in scope), so a
    /// subtree that may be cut out (a MeMo message in a request) carries its declarations.
    pub declare: Vec<String>,
}

/// Prefixes this project writes for the namespaces it knows (the first one wins).
pub const KNOWN_PREFIXES: &[(&str, &str)] = &[
    ("memo", "https://DigitalPost.dk/MeMo-1"),
    ("gln", "https://www.gs1.dk/gs1-standarder/identifikation/gln-global-location-number/"),
    ("udd", "https://www.dst.dk/da/TilSalg/Forskningsservice/Dokumentation/hoejkvalitetsvariable/elevregister-2/udd#"),
    (
        "rid",
        "https://www.nets.eu/dk-da/l%C3%B8sninger/nemid/nemid-tjenesteudbyder/supplerende-tjenester/pid-rid-cpr-tjenester",
    ),
    ("pnum", "https://indberet.virk.dk/myndigheder/stat/ERST/P-enhedsloesningen"),
    ("form", "http://www.form-online.dk/"),
    ("kle", "http://kle-online.dk/"),
    ("dmv", "https://motorregister.skat.dk/"),
    ("grd", "https://data.gov.dk/model/core/"),
    ("sor", "https://services.nsi.dk/en/Services/SOR"),
    ("fjernprint", "urn:oio:fjernprint:1.0.0"),
    ("dkal", "urn:oio:dkal:1.0.0"),
    ("sd", "urn:oio:sagdok:3.0.0"),
    ("adir", "urn:oio:adir:dagpenge:2009.07.01"),
    ("itst", "http://rep.oio.dk/itst.dk/xml/schemas/2006/01/17/"),
    ("dkcc", "http://rep.oio.dk/ebxml/xml/schemas/dkcc/2003/02/13/"),
    ("dkcc2005", "http://rep.oio.dk/ebxml/xml/schemas/dkcc/2005/03/15/"),
    ("dkcc2005-3", "http://rep.oio.dk/ebxml/xml/schemas/dkcc/2005/05/19/"),
];

impl XmlElement {
    pub fn new(namespace: &str, name: &str) -> Self {
        Self { namespace: namespace.to_owned(), name: name.to_owned(), ..Default::default() }
    }

    /// A leaf element with text.
    pub fn leaf(namespace: &str, name: &str, text: impl Into<String>) -> Self {
        Self { text: text.into(), ..Self::new(namespace, name) }
    }

    pub fn with_child(mut self, child: XmlElement) -> Self {
        self.children.push(child);
        self
    }

    pub fn with_attribute(mut self, name: &str, value: impl Into<String>) -> Self {
        self.attributes.push((name.to_owned(), value.into()));
        self
    }

    pub fn is(&self, namespace: &str, name: &str) -> bool {
        self.namespace == namespace && self.name == name
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The first descendant (depth first, self included) with this name.
    pub fn find(&self, namespace: &str, name: &str) -> Option<&XmlElement> {
        if self.is(namespace, name) {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(namespace, name))
    }

    /// Every namespace used in this subtree, in first-use order.
    pub fn namespaces(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_namespaces(&mut out);
        out
    }

    fn collect_namespaces(&self, out: &mut Vec<String>) {
        if !self.namespace.is_empty() && !out.contains(&self.namespace) {
            out.push(self.namespace.clone());
        }
        for child in &self.children {
            child.collect_namespaces(out);
        }
    }

    /// Parse a document and return its root element.
    pub fn parse(xml: &str) -> Result<XmlElement, XmlError> {
        let mut reader = Reader::from_str(xml);
        reader.config_mut().check_end_names = true;
        // (element, namespace declarations it made)
        let mut stack: Vec<(XmlElement, Vec<(String, String)>)> = Vec::new();
        let mut root: Option<XmlElement> = None;
        loop {
            let event = reader.read_event().map_err(|e| XmlError::Malformed(e.to_string()))?;
            match event {
                Event::Start(start) => {
                    let opened = open(&start, &stack)?;
                    stack.push(opened);
                }
                Event::Empty(start) => {
                    let (element, _) = open(&start, &stack)?;
                    close(element, &mut stack, &mut root)?;
                }
                Event::End(_) => {
                    let Some((mut element, _)) = stack.pop() else {
                        return Err(XmlError::Malformed("end tag without start".into()));
                    };
                    if !element.children.is_empty() && element.text.trim().is_empty() {
                        element.text.clear();
                    }
                    close(element, &mut stack, &mut root)?;
                }
                Event::Text(text) => append_text(&mut stack, &text.xml10_content())?,
                Event::CData(data) => {
                    append_text(&mut stack, &data.xml10_content())?;
                }
                Event::GeneralRef(reference) => {
                    let resolved = if reference.is_char_ref() {
                        reference
                            .resolve_char_ref()
                            .map_err(|e| XmlError::Malformed(e.to_string()))?
                            .map(String::from)
                            .unwrap_or_default()
                    } else {
                        let name = reference.xml10_content();
                        match name.as_ref() {
                            "amp" => "&".to_owned(),
                            "lt" => "<".to_owned(),
                            "gt" => ">".to_owned(),
                            "quot" => "\"".to_owned(),
                            "apos" => "'".to_owned(),
                            other => return Err(XmlError::Malformed(format!("unknown entity &{other};"))),
                        }
                    };
                    append_text(&mut stack, &resolved)?;
                }
                Event::Eof => break,
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
        if !stack.is_empty() {
            return Err(XmlError::Malformed("document ends inside an element".into()));
        }
        root.ok_or_else(|| XmlError::Malformed("no root element".into()))
    }

    /// Serialise as a document with an XML declaration. A namespace is declared on the
    /// element that asks for it (`declare`), else where it is first used.
    pub fn to_document(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let mut scope: Vec<(String, String)> = Vec::new();
        self.write(&mut out, &mut scope, 0);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, scope: &mut Vec<(String, String)>, depth: usize) {
        let scope_len = scope.len();
        let mut declarations: Vec<(String, String)> = Vec::new();
        let mut wanted: Vec<&str> = vec![self.namespace.as_str()];
        wanted.extend(self.declare.iter().map(String::as_str));
        for namespace in wanted {
            let in_scope = scope.iter().rev().find(|(_, uri)| uri == namespace).map(|(p, _)| p.clone());
            let default_in_scope = scope.iter().rev().find(|(p, _)| p.is_empty()).is_some_and(|(_, u)| !u.is_empty());
            if namespace.is_empty() {
                if default_in_scope && namespace == self.namespace {
                    // an unqualified element inside a default namespace must undeclare it
                    declarations.push((String::new(), String::new()));
                    scope.push((String::new(), String::new()));
                }
                continue;
            }
            if in_scope.is_some() {
                continue;
            }
            let prefix = KNOWN_PREFIXES
                .iter()
                .find(|(_, uri)| *uri == namespace)
                .map(|(p, _)| (*p).to_owned())
                .or_else(|| if namespace == self.namespace { self.prefix.clone() } else { None })
                .unwrap_or_default();
            declarations.push((prefix.clone(), namespace.to_owned()));
            scope.push((prefix, namespace.to_owned()));
        }
        let prefix = if self.namespace.is_empty() {
            String::new()
        } else {
            scope.iter().rev().find(|(_, uri)| *uri == self.namespace).map(|(p, _)| p.clone()).unwrap_or_default()
        };
        let qname = if prefix.is_empty() { self.name.clone() } else { format!("{prefix}:{}", self.name) };
        indent(out, depth);
        out.push('<');
        out.push_str(&qname);
        for (p, uri) in &declarations {
            if p.is_empty() {
                out.push_str(&format!(" xmlns=\"{}\"", escape_attribute(uri)));
            } else {
                out.push_str(&format!(" xmlns:{p}=\"{}\"", escape_attribute(uri)));
            }
        }
        for (name, value) in &self.attributes {
            out.push_str(&format!(" {name}=\"{}\"", escape_attribute(value)));
        }
        if self.children.is_empty() && self.text.is_empty() {
            out.push_str("/>");
        } else if self.children.is_empty() {
            out.push('>');
            out.push_str(&escape_text(&self.text));
            out.push_str(&format!("</{qname}>"));
        } else {
            out.push('>');
            for child in &self.children {
                out.push('\n');
                child.write(out, scope, depth + 1);
            }
            out.push('\n');
            indent(out, depth);
            out.push_str(&format!("</{qname}>"));
        }
        scope.truncate(scope_len);
    }
}

/// Characters XML 1.0 can carry at all; any other (NUL and most C0 controls, lone U+FFFE/FFFF)
/// would make the document malformed, so it is written as U+FFFD.
fn xml_char(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'.. => c,
        _ => '\u{FFFD}',
    }
}

/// Element text: markup characters escaped, and `\r` as a reference (a parser turns a literal
/// one into `\n`).
fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().map(xml_char) {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

/// An attribute value in double quotes: tab, line feed and carriage return as references,
/// since attribute-value normalisation turns literal ones into spaces.
fn escape_attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars().map(xml_char) {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn open(
    start: &BytesStart<'_>,
    stack: &[(XmlElement, Vec<(String, String)>)],
) -> Result<(XmlElement, Vec<(String, String)>), XmlError> {
    let qname = start.name().0.to_owned();
    let mut declarations = Vec::new();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| XmlError::Malformed(e.to_string()))?;
        let key = attribute.key.0.to_owned();
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| XmlError::Malformed(e.to_string()))?
            .into_owned();
        if key == "xmlns" {
            declarations.push((String::new(), value));
        } else if let Some(prefix) = key.strip_prefix("xmlns:") {
            declarations.push((prefix.to_owned(), value));
        } else {
            attributes.push((key, value));
        }
    }
    let (prefix, name) = match qname.split_once(':') {
        Some((p, n)) => (Some(p.to_owned()), n.to_owned()),
        None => (None, qname.clone()),
    };
    let wanted = prefix.clone().unwrap_or_default();
    let namespace = declarations
        .iter()
        .rev()
        .chain(stack.iter().rev().flat_map(|(_, d)| d.iter().rev()))
        .find(|(p, _)| *p == wanted)
        .map(|(_, uri)| uri.clone());
    let namespace = match (namespace, &prefix) {
        (Some(uri), _) => uri,
        (None, None) => String::new(),
        (None, Some(p)) => return Err(XmlError::Malformed(format!("undeclared namespace prefix {p:?}"))),
    };
    Ok((XmlElement { namespace, name, prefix, attributes, ..XmlElement::default() }, declarations))
}

fn close(
    element: XmlElement,
    stack: &mut [(XmlElement, Vec<(String, String)>)],
    root: &mut Option<XmlElement>,
) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some((parent, _)) => parent.children.push(element),
        None if root.is_none() => *root = Some(element),
        None => return Err(XmlError::Malformed("more than one root element".into())),
    }
    Ok(())
}

fn append_text(stack: &mut [(XmlElement, Vec<(String, String)>)], text: &str) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some((element, _)) => element.text.push_str(text),
        None if text.trim().is_empty() => {}
        None => return Err(XmlError::Malformed("text outside the root element".into())),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_namespaces_entities_and_writes_them_back() {
        let xml = r#"<?xml version="1.0"?>
<a:root xmlns:a="urn:a" xmlns="urn:d" x="1 &amp; 2">
  <child>R&amp;D &#229; <![CDATA[<raw>]]></child>
  <a:empty/>
  <plain xmlns="">t</plain>
</a:root>"#;
        let root = XmlElement::parse(xml).unwrap();
        assert!(root.is("urn:a", "root"));
        assert_eq!(root.attribute("x"), Some("1 & 2"));
        assert_eq!(root.children[0].namespace, "urn:d");
        assert_eq!(root.children[0].text, "R&D å <raw>");
        assert!(root.children[1].is("urn:a", "empty"));
        assert!(root.children[2].is("", "plain"));
        let again = XmlElement::parse(&root.to_document()).unwrap();
        assert_eq!(again.children, root.children);
    }

    #[test]
    fn refuses_malformed_documents() {
        assert!(XmlElement::parse("<a><b></a>").is_err());
        assert!(XmlElement::parse("<x:a/>").is_err());
        assert!(XmlElement::parse("").is_err());
    }
}
