//! MeMo 1.2, the message format of Danish Digital Post: a typed model of the `memo`
//! namespace, a parser and a serialiser. Element order follows the official xs:sequence of
//! every complex type (reading enforces it too). Elements from the reference-data namespaces
//! (`grd`, `gln`, `kle`, `form`, `sor`, `dmv`, `udd`) are kept as XML subtrees: Budbringer
//! does not write them, but a parsed message keeps them, so reading and writing a message gives
//! back the same elements.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::xml::{XmlElement, XmlError};

pub const MEMO_NS: &str = "https://DigitalPost.dk/MeMo-1";
pub const MEMO_VERSION: &str = "1.2";
const GRD: &str = "https://data.gov.dk/model/core/";
const GLN: &str = "https://www.gs1.dk/gs1-standarder/identifikation/gln-global-location-number/";
const SOR: &str = "https://services.nsi.dk/en/Services/SOR";
const DMV: &str = "https://motorregister.skat.dk/";
const KLE: &str = "http://kle-online.dk/";
const FORM: &str = "http://www.form-online.dk/";
const UDD: &str =
    "https://www.dst.dk/da/TilSalg/Forskningsservice/Dokumentation/hoejkvalitetsvariable/elevregister-2/udd#";
const MEMO: &str = MEMO_NS;

#[derive(Debug, thiserror::Error)]
pub enum MemoError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("not a MeMo message: the root is {0}")]
    NotMemo(String),
    #[error("{parent} lacks {child}")]
    Missing { parent: String, child: String },
    #[error("{parent} has an unexpected (or misplaced) {found}")]
    Unexpected { parent: String, found: String },
    #[error("{element} has a bad value: {reason}")]
    BadValue { element: String, reason: String },
}

/// Something that is one element: a text leaf, a MeMo record or a foreign subtree.
pub trait Node: Sized {
    fn from_element(element: &XmlElement) -> Result<Self, MemoError>;
    fn to_element(&self, namespace: &str, name: &str) -> XmlElement;
}

fn bad(element: &XmlElement, reason: impl Into<String>) -> MemoError {
    MemoError::BadValue { element: element.name.clone(), reason: reason.into() }
}

impl Node for String {
    fn from_element(element: &XmlElement) -> Result<Self, MemoError> {
        if !element.children.is_empty() {
            return Err(bad(element, "expected text, found elements"));
        }
        Ok(element.text.clone())
    }
    fn to_element(&self, namespace: &str, name: &str) -> XmlElement {
        XmlElement::leaf(namespace, name, self.clone())
    }
}

impl Node for bool {
    fn from_element(element: &XmlElement) -> Result<Self, MemoError> {
        match element.text.trim() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            other => Err(bad(element, format!("{other:?} is not a boolean"))),
        }
    }
    fn to_element(&self, namespace: &str, name: &str) -> XmlElement {
        XmlElement::leaf(namespace, name, if *self { "true" } else { "false" })
    }
}

/// An `xs:dateTime`, always written in UTC with a trailing `Z` (a Digital Post rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DateTime(pub jiff::Timestamp);

impl Node for DateTime {
    fn from_element(element: &XmlElement) -> Result<Self, MemoError> {
        element.text.trim().parse::<jiff::Timestamp>().map(DateTime).map_err(|e| bad(element, e.to_string()))
    }
    fn to_element(&self, namespace: &str, name: &str) -> XmlElement {
        // jiff writes a timestamp in UTC with `Z`, and seconds only when there is no fraction
        XmlElement::leaf(namespace, name, self.0.to_string())
    }
}

impl Node for jiff::civil::Date {
    fn from_element(element: &XmlElement) -> Result<Self, MemoError> {
        element.text.trim().parse().map_err(|e: jiff::Error| bad(element, e.to_string()))
    }
    fn to_element(&self, namespace: &str, name: &str) -> XmlElement {
        XmlElement::leaf(namespace, name, self.to_string())
    }
}

/// `xs:base64Binary` content, held decoded.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Base64(pub Vec<u8>);

impl std::fmt::Debug for Base64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // letter content stays out of logs and panics
        write!(f, "Base64({} bytes)", self.0.len())
    }
}

impl Node for Base64 {
    fn from_element(element: &XmlElement) -> Result<Self, MemoError> {
        let compact: String = element.text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        STANDARD.decode(compact).map(Base64).map_err(|e| bad(element, e.to_string()))
    }
    fn to_element(&self, namespace: &str, name: &str) -> XmlElement {
        XmlElement::leaf(namespace, name, STANDARD.encode(&self.0))
    }
}

/// An element of another namespace, kept as it was.
impl Node for XmlElement {
    fn from_element(element: &XmlElement) -> Result<Self, MemoError> {
        Ok(element.clone())
    }
    fn to_element(&self, _namespace: &str, _name: &str) -> XmlElement {
        self.clone()
    }
}

/// Reads the children of one element in their xs:sequence order.
struct Sequence<'a> {
    parent: &'a XmlElement,
    position: usize,
}

impl<'a> Sequence<'a> {
    fn new(parent: &'a XmlElement) -> Self {
        Self { parent, position: 0 }
    }

    fn opt<T: Node>(&mut self, namespace: &str, name: &str) -> Result<Option<T>, MemoError> {
        match self.parent.children.get(self.position) {
            Some(child) if child.is(namespace, name) => {
                self.position += 1;
                T::from_element(child).map(Some)
            }
            _ => Ok(None),
        }
    }

    fn req<T: Node>(&mut self, namespace: &str, name: &str) -> Result<T, MemoError> {
        self.opt(namespace, name)?
            .ok_or_else(|| MemoError::Missing { parent: self.parent.name.clone(), child: name.to_owned() })
    }

    fn many<T: Node>(&mut self, namespace: &str, name: &str) -> Result<Vec<T>, MemoError> {
        let mut out = Vec::new();
        while let Some(item) = self.opt(namespace, name)? {
            out.push(item);
        }
        Ok(out)
    }

    /// Everything must have been read: anything left is unknown or out of order.
    fn finish(self) -> Result<(), MemoError> {
        match self.parent.children.get(self.position) {
            None => Ok(()),
            Some(child) => Err(MemoError::Unexpected {
                parent: self.parent.name.clone(),
                found: match &child.prefix {
                    Some(p) => format!("{p}:{}", child.name),
                    None => child.name.clone(),
                },
            }),
        }
    }
}

/// Writes the children of one element.
struct Children(Vec<XmlElement>);

impl Children {
    fn one<T: Node>(&mut self, value: &T, namespace: &str, name: &str) {
        self.0.push(value.to_element(namespace, name));
    }
    fn opt<T: Node>(&mut self, value: &Option<T>, namespace: &str, name: &str) {
        if let Some(v) = value {
            self.one(v, namespace, name);
        }
    }
    fn many<T: Node>(&mut self, values: &[T], namespace: &str, name: &str) {
        for v in values {
            self.one(v, namespace, name);
        }
    }
}

macro_rules! field_type {
    (req $t:ty) => { $t };
    (opt $t:ty) => { Option<$t> };
    (many $t:ty) => { Vec<$t> };
}

macro_rules! field_read {
    (req, $seq:ident, $t:ty, $ns:expr, $name:literal) => {
        $seq.req::<$t>($ns, $name)?
    };
    (opt, $seq:ident, $t:ty, $ns:expr, $name:literal) => {
        $seq.opt::<$t>($ns, $name)?
    };
    (many, $seq:ident, $t:ty, $ns:expr, $name:literal) => {
        $seq.many::<$t>($ns, $name)?
    };
}

macro_rules! field_write {
    (req, $out:ident, $v:expr, $ns:expr, $name:literal) => {
        $out.one($v, $ns, $name)
    };
    (opt, $out:ident, $v:expr, $ns:expr, $name:literal) => {
        $out.opt($v, $ns, $name)
    };
    (many, $out:ident, $v:expr, $ns:expr, $name:literal) => {
        $out.many($v, $ns, $name)
    };
}

/// A MeMo complex type: its fields in xs:sequence order, each `req`, `opt` or `many`, with
/// the namespace and name of its element.
macro_rules! memo_record {
    ($(#[$m:meta])* $name:ident { $($kind:ident $field:ident : $t:ty = $ns:ident $el:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct $name {
            $(pub $field: field_type!($kind $t),)+
        }

        impl Node for $name {
            fn from_element(element: &XmlElement) -> Result<Self, MemoError> {
                let mut seq = Sequence::new(element);
                let value = $name { $($field: field_read!($kind, seq, $t, $ns, $el),)+ };
                seq.finish()?;
                Ok(value)
            }
            fn to_element(&self, namespace: &str, name: &str) -> XmlElement {
                let mut out = Children(Vec::new());
                $(field_write!($kind, out, &self.$field, $ns, $el);)+
                XmlElement { children: out.0, ..XmlElement::new(namespace, name) }
            }
        }
    };
}

memo_record!(MessageHeader {
    req message_type: String = MEMO "messageType",
    req message_uuid: String = MEMO "messageUUID",
    opt message_id: String = MEMO "messageID",
    opt message_code: String = MEMO "messageCode",
    req label: String = MEMO "label",
    opt notification: String = MEMO "notification",
    opt additional_notification: String = MEMO "additionalNotification",
    opt reply: bool = MEMO "reply",
    opt reply_by_date_time: DateTime = MEMO "replyByDateTime",
    opt do_not_deliver_until_date: jiff::civil::Date = MEMO "doNotDeliverUntilDate",
    opt mandatory: bool = MEMO "mandatory",
    opt legal_notification: bool = MEMO "legalNotification",
    opt post_type: String = MEMO "postType",
    req sender: Sender = MEMO "Sender",
    req recipient: Recipient = MEMO "Recipient",
    opt content_data: ContentData = MEMO "ContentData",
    opt forward_data: ForwardData = MEMO "ForwardData",
    many reply_data: ReplyData = MEMO "ReplyData",
});

memo_record!(Sender {
    req sender_id: String = MEMO "senderID",
    req id_type: String = MEMO "idType",
    opt id_type_label: String = MEMO "idTypeLabel",
    opt label: String = MEMO "label",
    opt attention_data: AttentionData = MEMO "AttentionData",
    opt contact_point: ContactPoint = MEMO "ContactPoint",
    opt representative: Representative = MEMO "Representative",
});

memo_record!(
    /// Who sends on the sender's behalf (MeMo 1.2).
    Representative {
        opt representative_id: String = MEMO "representativeID",
        opt id_type: String = MEMO "idType",
        opt id_type_label: String = MEMO "idTypeLabel",
        opt label: String = MEMO "label",
    }
);

memo_record!(Recipient {
    req recipient_id: String = MEMO "recipientID",
    req id_type: String = MEMO "idType",
    opt id_type_label: String = MEMO "idTypeLabel",
    opt label: String = MEMO "label",
    opt attention_data: AttentionData = MEMO "AttentionData",
    opt contact_point: ContactPoint = MEMO "ContactPoint",
});

memo_record!(AttentionData {
    opt attention_person: AttentionPerson = MEMO "AttentionPerson",
    opt production_unit: XmlElement = GRD "ProductionUnit",
    opt global_location_number: XmlElement = GLN "GlobalLocationNumber",
    opt email: EMail = MEMO "EMail",
    opt se_number: XmlElement = GRD "SEnumber",
    opt telephone: Telephone = MEMO "Telephone",
    opt eid: XmlElement = GRD "EID",
    opt content_responsible: ContentResponsible = MEMO "ContentResponsible",
    opt generating_system: GeneratingSystem = MEMO "GeneratingSystem",
    opt sor_data: XmlElement = SOR "SORdata",
    opt address: XmlElement = GRD "Address",
    opt unstructured_address: XmlElement = GRD "UnstructuredAddress",
});

memo_record!(AttentionPerson {
    opt person_id: String = MEMO "personID",
    opt label: String = MEMO "label",
});

memo_record!(EMail {
    opt email_address: String = MEMO "emailAddress",
    opt related_agent: String = MEMO "relatedAgent",
});

memo_record!(Telephone {
    opt telephone_number: String = MEMO "telephoneNumber",
    opt related_agent: String = MEMO "relatedAgent",
});

memo_record!(ContentResponsible {
    opt content_responsible_id: String = MEMO "contentResponsibleID",
    opt label: String = MEMO "label",
});

memo_record!(GeneratingSystem {
    opt generating_system_id: String = MEMO "generatingSystemID",
    opt label: String = MEMO "label",
});

memo_record!(ContactPoint {
    opt contact_group: String = MEMO "contactGroup",
    opt contact_point_id: String = MEMO "contactPointID",
    opt label: String = MEMO "label",
    many contact_info: ContactInfo = MEMO "ContactInfo",
});

memo_record!(ContactInfo {
    opt label: String = MEMO "label",
    opt value: String = MEMO "value",
});

memo_record!(ContentData {
    opt cpr_data: XmlElement = GRD "CPRdata",
    opt cvr_data: XmlElement = GRD "CVRdata",
    opt motor_vehicle: XmlElement = DMV "MotorVehicle",
    opt property_number: XmlElement = GRD "PropertyNumber",
    opt case_id: CaseId = MEMO "CaseID",
    opt kle_data: XmlElement = KLE "KLEdata",
    opt form_data: XmlElement = FORM "FORMdata",
    opt production_unit: XmlElement = GRD "ProductionUnit",
    opt education: XmlElement = UDD "Education",
    opt address: XmlElement = GRD "Address",
    opt unstructured_address: XmlElement = GRD "UnstructuredAddress",
    many additional_content_data: AdditionalContentData = MEMO "AdditionalContentData",
});

memo_record!(CaseId {
    opt case_id: String = MEMO "caseID",
    opt case_system: String = MEMO "caseSystem",
});

memo_record!(AdditionalContentData {
    opt content_data_type: String = MEMO "contentDataType",
    opt content_data_name: String = MEMO "contentDataName",
    opt content_data_value: String = MEMO "contentDataValue",
});

memo_record!(ForwardData {
    opt message_uuid: String = MEMO "messageUUID",
    opt original_message_date_time: DateTime = MEMO "originalMessageDateTime",
    opt original_sender: String = MEMO "originalSender",
    opt original_content_responsible: String = MEMO "originalContentResponsible",
    opt original_representative: String = MEMO "originalRepresentative",
    opt contact_point_id: String = MEMO "contactPointID",
    opt comment: String = MEMO "comment",
});

memo_record!(ReplyData {
    opt message_id: String = MEMO "messageID",
    opt message_uuid: String = MEMO "messageUUID",
    opt reply_uuid: String = MEMO "replyUUID",
    opt sender_id: String = MEMO "senderID",
    opt recipient_id: String = MEMO "recipientID",
    opt case_id: String = MEMO "caseID",
    opt contact_point_id: String = MEMO "contactPointID",
    opt generating_system_id: String = MEMO "generatingSystemID",
    opt comment: String = MEMO "comment",
    many additional_reply_data: AdditionalReplyData = MEMO "AdditionalReplyData",
});

memo_record!(AdditionalReplyData {
    opt label: String = MEMO "label",
    opt value: String = MEMO "value",
});

memo_record!(MessageBody {
    req created_date_time: DateTime = MEMO "createdDateTime",
    req main_document: MainDocument = MEMO "MainDocument",
    many additional_documents: AdditionalDocument = MEMO "AdditionalDocument",
    many technical_documents: TechnicalDocument = MEMO "TechnicalDocument",
});

memo_record!(MainDocument {
    opt main_document_id: String = MEMO "mainDocumentID",
    opt label: String = MEMO "label",
    many files: File = MEMO "File",
    many actions: Action = MEMO "Action",
});

memo_record!(AdditionalDocument {
    opt additional_document_id: String = MEMO "additionalDocumentID",
    opt label: String = MEMO "label",
    many files: File = MEMO "File",
    many actions: Action = MEMO "Action",
});

memo_record!(TechnicalDocument {
    opt technical_document_id: String = MEMO "technicalDocumentID",
    opt label: String = MEMO "label",
    many files: File = MEMO "File",
});

memo_record!(File {
    req encoding_format: String = MEMO "encodingFormat",
    req filename: String = MEMO "filename",
    req language: String = MEMO "language",
    req content: Base64 = MEMO "content",
});

memo_record!(Action {
    req label: String = MEMO "label",
    req action_code: String = MEMO "actionCode",
    opt start_date_time: DateTime = MEMO "startDateTime",
    opt end_date_time: DateTime = MEMO "endDateTime",
    opt reservation: Reservation = MEMO "Reservation",
    opt entry_point: EntryPoint = MEMO "EntryPoint",
});

memo_record!(Reservation {
    opt description: String = MEMO "description",
    opt reservation_uuid: String = MEMO "reservationUUID",
    opt abstract_text: String = MEMO "abstract",
    opt location: String = MEMO "location",
    opt start_date_time: DateTime = MEMO "startDateTime",
    opt end_date_time: DateTime = MEMO "endDateTime",
    opt organizer_mail: String = MEMO "organizerMail",
    opt organizer_name: String = MEMO "organizerName",
});

memo_record!(EntryPoint {
    req url: String = MEMO "url",
});

/// The root `memo:Message`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Message {
    pub memo_version: String,
    pub memo_sch_version: Option<String>,
    pub header: MessageHeader,
    /// Absent in NemSMS-only messages.
    pub body: Option<MessageBody>,
}

impl Message {
    pub fn parse(xml: &str) -> Result<Message, MemoError> {
        Self::from_element(&XmlElement::parse(xml)?)
    }

    pub fn from_element(root: &XmlElement) -> Result<Message, MemoError> {
        if !root.is(MEMO_NS, "Message") {
            return Err(MemoError::NotMemo(format!("{{{}}}{}", root.namespace, root.name)));
        }
        let memo_version = root
            .attribute("memoVersion")
            .ok_or_else(|| MemoError::Missing { parent: "Message".into(), child: "@memoVersion".into() })?
            .to_owned();
        let mut seq = Sequence::new(root);
        let header = seq.req(MEMO_NS, "MessageHeader")?;
        let body = seq.opt(MEMO_NS, "MessageBody")?;
        seq.finish()?;
        Ok(Message {
            memo_version,
            memo_sch_version: root.attribute("memoSchVersion").map(str::to_owned),
            header,
            body,
        })
    }

    /// The message as an element tree (root `memo:Message`, which declares every namespace
    /// the message uses, `memo` first).
    pub fn to_element(&self) -> XmlElement {
        let mut root = XmlElement::new(MEMO_NS, "Message").with_attribute("memoVersion", self.memo_version.clone());
        if let Some(v) = &self.memo_sch_version {
            root = root.with_attribute("memoSchVersion", v.clone());
        }
        root.children.push(self.header.to_element(MEMO_NS, "MessageHeader"));
        if let Some(body) = &self.body {
            root.children.push(body.to_element(MEMO_NS, "MessageBody"));
        }
        root.declare = root.namespaces();
        root
    }

    /// The XML document.
    pub fn to_xml(&self) -> String {
        self.to_element().to_document()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Elements, attributes (without namespace declarations) and text, in document order.
    fn canonical(element: &XmlElement, out: &mut Vec<String>, depth: usize) {
        let mut attributes = element.attributes.clone();
        attributes.sort();
        out.push(format!(
            "{}{{{}}}{} {:?} {:?}",
            " ".repeat(depth),
            element.namespace,
            element.name,
            attributes,
            element.text
        ));
        for child in &element.children {
            canonical(child, out, depth + 1);
        }
    }

    fn canonical_of(xml: &str) -> Vec<String> {
        let mut out = Vec::new();
        canonical(&XmlElement::parse(xml).unwrap(), &mut out, 0);
        out
    }

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/memo").join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn the_official_memo_examples_survive_a_round_trip() {
        for name in ["MeMo_Full_Example.xml", "MeMo_Minimum_Example.xml", "MeMo_NemSMS.xml", "MeMo_with_attachment.xml"]
        {
            let original = fixture(name);
            let message = Message::parse(&original).unwrap_or_else(|e| panic!("{name}: {e}"));
            let written = message.to_xml();
            assert!(written.contains("<memo:Message xmlns:memo=\"https://DigitalPost.dk/MeMo-1\""), "{name}");
            let (want, got) = (canonical_of(&original), canonical_of(&written));
            for (i, (w, g)) in want.iter().zip(&got).enumerate() {
                assert_eq!(w, g, "{name}: element {i} differs");
            }
            assert_eq!(want.len(), got.len(), "{name}: element count");
            assert_eq!(Message::parse(&written).unwrap(), message, "{name}: parse(write(m)) == m");
        }
    }

    #[test]
    fn the_full_example_is_read_into_the_typed_model() {
        let message = Message::parse(&fixture("MeMo_Full_Example.xml")).unwrap();
        let header = &message.header;
        assert_eq!(header.message_uuid, "8C2EA15D-61FB-4BA9-9366-42F8B194C114");
        assert_eq!(header.reply, Some(true));
        assert_eq!(header.reply_by_date_time.map(|d| d.0.to_string()), Some("2025-09-30T12:00:00Z".into()));
        assert_eq!(header.sender.contact_point.as_ref().map(|c| c.contact_info.len()), Some(2));
        assert_eq!(header.reply_data.len(), 2);
        let body = message.body.unwrap();
        assert_eq!(body.main_document.files[0].content.0, b"This is a test");
        assert_eq!(body.additional_documents.len(), 2);
        assert_eq!(
            body.main_document.actions[1].reservation.as_ref().and_then(|r| r.abstract_text.clone()),
            Some("Opstart".into())
        );
    }

    #[test]
    fn elements_out_of_sequence_or_unknown_are_refused() {
        let swapped = fixture("MeMo_Minimum_Example.xml").replace(
            "<memo:messageType>DIGITALPOST</memo:messageType>\n\t\t<memo:messageUUID>8C2EA15D-61FB-4BA9-9366-42F8B194C114</memo:messageUUID>",
            "<memo:messageUUID>8C2EA15D-61FB-4BA9-9366-42F8B194C114</memo:messageUUID>\n\t\t<memo:messageType>DIGITALPOST</memo:messageType>",
        );
        assert!(matches!(Message::parse(&swapped), Err(MemoError::Missing { .. } | MemoError::Unexpected { .. })));
        let unknown = fixture("MeMo_NemSMS.xml").replace("<memo:notification>", "<memo:bogus/><memo:notification>");
        assert!(matches!(Message::parse(&unknown), Err(MemoError::Missing { .. } | MemoError::Unexpected { .. })));
        let trailing =
            fixture("MeMo_NemSMS.xml").replace("</memo:MessageHeader>", "<memo:bogus/></memo:MessageHeader>");
        assert!(matches!(Message::parse(&trailing), Err(MemoError::Unexpected { .. })));
        assert!(matches!(Message::parse("<Message/>"), Err(MemoError::NotMemo(_))));
    }

    mod properties {
        use super::super::*;
        use super::fixture;
        use proptest::prelude::*;

        fn config() -> ProptestConfig {
            let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
            ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
        }

        /// Text XML 1.0 can carry, with markup characters, line ends and bidi controls mixed in.
        fn text() -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                4 => "\\PC{0,8}",
                1 => prop::sample::select(vec![
                    "<", ">", "&", "&amp;", "]]>", "\"", "'", "\r\n", "\r", "\n", "\t", " ", "  ",
                    "\u{202E}", "\u{FEFF}", "<memo:label>", "<!--", "&#0;", "💌", "æøå",
                ])
                .prop_map(str::to_owned),
            ];
            prop::collection::vec(piece, 0..5).prop_map(|pieces| pieces.concat())
        }

        fn opt_text() -> impl Strategy<Value = Option<String>> {
            prop::option::of(text())
        }

        fn date_time() -> impl Strategy<Value = DateTime> {
            (0i64..4_102_444_800, prop_oneof![Just(0i32), 0i32..1_000_000_000]).prop_map(|(secs, nanos)| {
                DateTime(jiff::Timestamp::new(secs, nanos).unwrap_or(jiff::Timestamp::UNIX_EPOCH))
            })
        }

        fn date() -> impl Strategy<Value = jiff::civil::Date> {
            (1900i16..2200, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| jiff::civil::date(y, m, d))
        }

        fn contact_point() -> impl Strategy<Value = ContactPoint> {
            (opt_text(), opt_text(), prop::collection::vec((opt_text(), opt_text()), 0..3)).prop_map(
                |(contact_group, label, info)| ContactPoint {
                    contact_group,
                    label,
                    contact_info: info.into_iter().map(|(label, value)| ContactInfo { label, value }).collect(),
                    ..Default::default()
                },
            )
        }

        fn sender() -> impl Strategy<Value = Sender> {
            (text(), text(), opt_text(), prop::option::of(contact_point())).prop_map(
                |(sender_id, id_type, label, contact_point)| Sender {
                    sender_id,
                    id_type,
                    label,
                    contact_point,
                    ..Default::default()
                },
            )
        }

        fn recipient() -> impl Strategy<Value = Recipient> {
            (text(), text(), opt_text(), prop::option::of((opt_text(), opt_text(), opt_text()))).prop_map(
                |(recipient_id, id_type, label, attention)| Recipient {
                    recipient_id,
                    id_type,
                    label,
                    attention_data: attention.map(|(person, label, email)| AttentionData {
                        attention_person: Some(AttentionPerson { person_id: person, label }),
                        email: Some(EMail { email_address: email, related_agent: None }),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            )
        }

        fn content_data() -> impl Strategy<Value = ContentData> {
            (opt_text(), prop::collection::vec((opt_text(), opt_text(), opt_text()), 0..3)).prop_map(
                |(case_id, extra)| ContentData {
                    case_id: Some(CaseId { case_id, case_system: None }),
                    additional_content_data: extra
                        .into_iter()
                        .map(|(t, n, v)| AdditionalContentData {
                            content_data_type: t,
                            content_data_name: n,
                            content_data_value: v,
                        })
                        .collect(),
                    ..Default::default()
                },
            )
        }

        fn header() -> impl Strategy<Value = MessageHeader> {
            (
                (text(), text(), opt_text(), text(), opt_text()),
                (
                    prop::option::of(any::<bool>()),
                    prop::option::of(date_time()),
                    prop::option::of(date()),
                    prop::option::of(any::<bool>()),
                ),
                (sender(), recipient(), prop::option::of(content_data())),
                prop::collection::vec((opt_text(), opt_text()), 0..2),
            )
                .prop_map(
                    |(
                        (message_type, message_uuid, message_id, label, notification),
                        (reply, reply_by_date_time, do_not_deliver_until_date, mandatory),
                        (sender, recipient, content_data),
                        replies,
                    )| MessageHeader {
                        message_type,
                        message_uuid,
                        message_id,
                        label,
                        notification,
                        reply,
                        reply_by_date_time,
                        do_not_deliver_until_date,
                        mandatory,
                        sender,
                        recipient,
                        content_data,
                        reply_data: replies
                            .into_iter()
                            .map(|(message_uuid, comment)| ReplyData { message_uuid, comment, ..Default::default() })
                            .collect(),
                        ..Default::default()
                    },
                )
        }

        fn file() -> impl Strategy<Value = File> {
            (text(), text(), text(), prop::collection::vec(any::<u8>(), 0..64)).prop_map(
                |(encoding_format, filename, language, content)| File {
                    encoding_format,
                    filename,
                    language,
                    content: Base64(content),
                },
            )
        }

        fn action() -> impl Strategy<Value = Action> {
            (text(), text(), prop::option::of(date_time()), prop::option::of(text())).prop_map(
                |(label, action_code, start_date_time, url)| Action {
                    label,
                    action_code,
                    start_date_time,
                    entry_point: url.map(|url| EntryPoint { url }),
                    ..Default::default()
                },
            )
        }

        fn body() -> impl Strategy<Value = MessageBody> {
            (
                date_time(),
                opt_text(),
                prop::collection::vec(file(), 0..3),
                prop::collection::vec(action(), 0..2),
                prop::collection::vec((opt_text(), prop::collection::vec(file(), 0..2)), 0..2),
            )
                .prop_map(|(created_date_time, label, files, actions, additional)| MessageBody {
                    created_date_time,
                    main_document: MainDocument { main_document_id: None, label, files, actions },
                    additional_documents: additional
                        .into_iter()
                        .map(|(label, files)| AdditionalDocument { label, files, ..Default::default() })
                        .collect(),
                    technical_documents: Vec::new(),
                })
        }

        fn message() -> impl Strategy<Value = Message> {
            (text(), opt_text(), header(), prop::option::of(body())).prop_map(
                |(memo_version, memo_sch_version, header, body)| Message {
                    memo_version,
                    memo_sch_version,
                    header,
                    body,
                },
            )
        }

        proptest! {
            #![proptest_config(config())]

            /// What Budbringer writes, it reads back as the same message.
            #[test]
            fn parse_of_serialise_is_identity(message in message()) {
                let xml = message.to_xml();
                let back = Message::parse(&xml).map_err(|e| TestCaseError::fail(format!("{e}\n{xml}")))?;
                prop_assert_eq!(back, message);
            }

            /// Whatever a message's strings hold (NUL and other characters XML cannot carry
            /// included), the document written is well-formed.
            #[test]
            fn serialised_documents_are_always_well_formed(label in any::<String>(), version in any::<String>()) {
                let message = Message { memo_version: version, header: MessageHeader { label, ..Default::default() }, ..Default::default() };
                let xml = message.to_xml();
                prop_assert!(!xml.contains('\0'));
                prop_assert!(Message::parse(&xml).is_ok(), "{}", xml);
            }

            /// Arbitrary text never panics the parser.
            #[test]
            fn arbitrary_text_never_panics(xml in any::<String>()) {
                let _ = Message::parse(&xml);
            }

            /// Nor does a real message cut, spliced or with bytes flipped.
            #[test]
            fn mangled_messages_never_panic(
                cut in any::<prop::sample::Index>(),
                splice in any::<prop::sample::Index>(),
                junk in "[<>&;:/=\"'#x0-9a-zA-Z!\\[\\]-]{0,12}",
            ) {
                let original = fixture("MeMo_Full_Example.xml");
                let chars: Vec<char> = original.chars().collect();
                let (a, b) = (cut.index(chars.len()), splice.index(chars.len()));
                let (from, to) = (a.min(b), a.max(b));
                let mangled: String =
                    chars[..from].iter().chain(junk.chars().collect::<Vec<_>>().iter()).chain(&chars[to..]).collect();
                let _ = Message::parse(&mangled);
                let truncated: String = chars[..a].iter().collect();
                let _ = Message::parse(&truncated);
            }
        }
    }
}
