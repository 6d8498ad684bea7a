//! A tiny element tree over quick-xml, keyed by LOCAL element names: moto answers in a
//! namespace without the trailing slash real EC2 uses, and error bodies have none at all, so
//! matching on qualified names would break one or the other. EC2 responses are small and
//! attribute-free, so a tree is simpler than a streaming state machine per response type.

use crate::error::{Error, Result};
use quick_xml::events::Event;
use quick_xml::Reader;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Node {
    pub name: String,
    /// Text directly inside this element, trimmed.
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Follows a `a/b/c` path of child names.
    pub fn at(&self, path: &str) -> Option<&Node> {
        path.split('/').try_fold(self, |n, part| n.child(part))
    }

    /// The text at `path`, `None` when absent or empty.
    pub fn text_at(&self, path: &str) -> Option<&str> {
        self.at(path).map(|n| n.text.as_str()).filter(|t| !t.is_empty())
    }

    /// The `<item>` children of the set at `path` (EC2's list encoding).
    pub fn items<'a>(&'a self, path: &str) -> impl Iterator<Item = &'a Node> + 'a {
        self.at(path).into_iter().flat_map(|set| set.children.iter().filter(|c| c.name == "item"))
    }

    /// The first element named `name` anywhere below (depth first), this one included.
    pub fn find(&self, name: &str) -> Option<&Node> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }
}

/// The deepest element nesting accepted. EC2's answers nest about 8 deep; the tree's derived
/// Drop, Clone and Debug and [`Node::find`] recurse, so an answer nested thousands deep would
/// overflow the stack and abort the process.
pub const MAX_DEPTH: usize = 64;

/// Parses a whole document into its root element. An answer that is not well-formed, or
/// nests deeper than [`MAX_DEPTH`], is an `invalid_response` provider error.
pub fn parse(xml: &str) -> Result<Node> {
    let bad = |e: &dyn std::fmt::Display| Error::Provider {
        provider: "Amazon EC2".into(),
        status: 200,
        code: Some("invalid_response".into()),
        message: format!(
            "Skydeck could not read the answer ({e}). Check that the API endpoint points at the EC2 API; try again later."
        ),
    };
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    // The open elements, innermost last; index 0 is a synthetic document node.
    let mut stack = vec![Node::default()];
    loop {
        match reader.read_event().map_err(|e| bad(&e))? {
            Event::Start(e) => {
                // The stack holds the synthetic document node too.
                if stack.len() > MAX_DEPTH {
                    return Err(bad(&format!("elements nested more than {MAX_DEPTH} deep")));
                }
                stack.push(Node {
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ..Node::default()
                })
            }
            Event::Empty(e) => {
                let node = Node { name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(), ..Node::default() };
                stack.last_mut().expect("stack never empty").children.push(node);
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| bad(&e))?;
                stack.last_mut().expect("stack never empty").text.push_str(text.trim());
            }
            Event::CData(t) => {
                let text = String::from_utf8_lossy(&t).into_owned();
                stack.last_mut().expect("stack never empty").text.push_str(text.trim());
            }
            Event::End(_) => {
                if stack.len() < 2 {
                    return Err(bad(&"unbalanced end tag"));
                }
                let node = stack.pop().expect("checked above");
                stack.last_mut().expect("checked above").children.push(node);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err(bad(&"the document ended inside an element"));
    }
    stack.pop().and_then(|doc| doc.children.into_iter().next()).ok_or_else(|| bad(&"no root element"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec2_dom_uses_local_names_and_unescapes() {
        let root = parse(
            r#"<?xml version="1.0"?><a:R xmlns:a="http://x/"><a:set><a:item><k>1 &amp; 2</k></a:item><a:item/></a:set><e/></a:R>"#,
        )
        .unwrap();
        assert_eq!(root.name, "R");
        assert_eq!(root.items("set").count(), 2);
        assert_eq!(root.items("set").next().unwrap().text_at("k"), Some("1 & 2"));
        assert!(root.child("e").is_some());
        assert_eq!(root.text_at("e"), None);
    }

    fn code(r: Result<Node>) -> Option<String> {
        match r {
            Err(Error::Provider { code, .. }) => code,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ec2_dom_rejects_broken_documents() {
        for bad in ["<a><b></a>", "<a><b>", "", "</a>"] {
            assert_eq!(code(parse(bad)).as_deref(), Some("invalid_response"), "{bad}");
        }
    }

    #[test]
    fn ec2_dom_limits_nesting() {
        let nested = |n: usize| format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
        assert!(parse(&nested(MAX_DEPTH)).is_ok());
        assert_eq!(code(parse(&nested(MAX_DEPTH + 1))).as_deref(), Some("invalid_response"));
        // Deep enough to overflow the stack when the tree was built and dropped; unclosed too.
        let e = parse(&nested(1_000_000)).unwrap_err();
        assert!(e.to_string().contains("nested more than 64"), "{e}");
        assert!(parse(&"<a>".repeat(1_000_000)).is_err());
    }
}
