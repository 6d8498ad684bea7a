//! The one loop that reads a paginated list, for every provider (EC2's NextToken, Vultr's
//! cursor, the page numbers of DigitalOcean, Linode and Hetzner). Each provider keeps its own
//! stop rule as data: the `fetch` closure reads one page and says what comes next
//! ([`Paged::next`], and [`Paged::total`] where the API counts its items). This loop adds the
//! guards a hostile or broken API needs: a page cap, an item cap, and a cursor that cycles
//! back to an earlier page — each a typed error, never an endless loop.
//!
//! A page that names itself as the next page ends the list instead: every page reachable has
//! been read, so nothing is lost, and stateless mocks (Prism answers every page with the
//! spec's one example, `next` included) do exactly that. The drivers always treated it so.

use crate::error::{Error, Result};
use std::collections::HashSet;
use std::fmt::Debug;
use std::future::Future;
use std::hash::Hash;

/// Pages read at most: 1000 pages of even 50 items is far beyond any real account, and with
/// the HTTP layer's per-call deadline it keeps a list that never ends bounded.
pub const MAX_PAGES: usize = 1000;
/// Items kept at most, a memory bound: 250 000 machines, sizes or images in one list is beyond
/// even a reseller's fleet (Skydeck aims to stay smooth at 100 000 machines in all), and EC2's
/// filtered image catalog of a region is a few thousand.
pub const MAX_ITEMS: usize = 250_000;

/// One page: its items and what the provider's rule says comes next.
#[derive(Debug, Clone, PartialEq)]
pub struct Paged<T, C> {
    pub items: Vec<T>,
    /// The cursor of the next page (a token or a page number); `None` on the last page.
    pub next: Option<C>,
    /// The item count over all pages, when the API says it: reading stops once reached.
    pub total: Option<u64>,
}

impl<T, C> Paged<T, C> {
    pub fn new(items: Vec<T>, next: Option<C>) -> Self {
        Paged { items, next, total: None }
    }
}

/// Reads every page of a list. `first` is the first page's cursor (`None` when the first
/// request carries none, e.g. EC2); `fetch` reads the page at a cursor. `what` names the
/// provider and list in errors ("Amazon EC2 instances in eu-west-1").
pub async fn read_all<T, C, F, Fut>(what: &str, first: Option<C>, mut fetch: F) -> Result<Vec<T>>
where
    C: Clone + Eq + Hash + Debug,
    F: FnMut(Option<C>) -> Fut,
    Fut: Future<Output = Result<Paged<T, C>>>,
{
    let mut seen: HashSet<C> = first.iter().cloned().collect();
    let mut cursor = first;
    let mut items = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = fetch(cursor.clone()).await?;
        if page.items.len() > MAX_ITEMS.saturating_sub(items.len()) {
            return Err(stopped(what, "too_many_items", format!("it listed more than {MAX_ITEMS} items")));
        }
        items.extend(page.items);
        let complete = page.total.is_some_and(|t| items.len() as u64 >= t);
        let next = match page.next {
            Some(next) if !complete => next,
            _ => return Ok(items),
        };
        if cursor.as_ref() == Some(&next) {
            return Ok(items);
        }
        if !seen.insert(next.clone()) {
            return Err(stopped(what, "pagination_loop", "its next-page links went round in a circle".into()));
        }
        cursor = Some(next);
    }
    Err(stopped(what, "too_many_pages", format!("it had more than {MAX_PAGES} pages")))
}

fn stopped(what: &str, code: &str, why: String) -> Error {
    Error::Provider {
        provider: what.into(),
        status: 200,
        code: Some(code.into()),
        message: format!(
            "Skydeck stopped reading the list because {why}. The API endpoint may be broken or not the provider's \
             API: check it, or try again later."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `read_all` over pages given as (items, next) per cursor, counting requests.
    async fn run(first: Option<u32>, pages: impl Fn(Option<u32>) -> (usize, Option<u32>, Option<u64>)) -> (Result<Vec<u8>>, usize) {
        let mut calls = 0;
        let out = read_all("Test", first, |c| {
            calls += 1;
            let (n, next, total) = pages(c);
            async move { Ok(Paged { items: vec![0u8; n], next, total }) }
        })
        .await;
        (out, calls)
    }

    fn code(r: &Result<Vec<u8>>) -> Option<String> {
        match r {
            Err(Error::Provider { code, .. }) => code.clone(),
            _ => None,
        }
    }

    #[tokio::test]
    async fn follows_pages_to_the_end() {
        let (out, calls) = run(Some(1), |c| (2, c.filter(|p| *p < 3).map(|p| p + 1), None)).await;
        assert_eq!((out.unwrap().len(), calls), (6, 3));
        // A token list: the first request has no cursor.
        let (out, calls) = run(None, |c| (1, if c.is_none() { Some(7) } else { None }, None)).await;
        assert_eq!((out.unwrap().len(), calls), (2, 2));
    }

    #[tokio::test]
    async fn stops_once_the_total_arrived() {
        let (out, calls) = run(Some(1), |c| (5, c.map(|p| p + 1), Some(10))).await;
        assert_eq!((out.unwrap().len(), calls), (10, 2));
    }

    #[tokio::test]
    async fn a_page_naming_itself_as_next_ends_the_list() {
        let (out, calls) = run(None, |_| (1, Some(5), None)).await;
        assert_eq!((out.unwrap().len(), calls), (2, 2));
        // The first page's own number counts: page 1 pointing at page 1.
        let (out, calls) = run(Some(1), |_| (1, Some(1), None)).await;
        assert_eq!((out.unwrap().len(), calls), (1, 1));
    }

    #[tokio::test]
    async fn a_cursor_cycle_is_a_typed_error() {
        // Two alternating tokens: the loop EC2's old "same as last token" check never ended.
        let (out, calls) = run(None, |c| (1, Some(if c == Some(1) { 2 } else { 1 }), None)).await;
        assert_eq!((code(&out).as_deref(), calls), (Some("pagination_loop"), 3));
        assert!(out.unwrap_err().to_string().contains("circle"));
        // Back to the first page of a numbered list.
        let (out, calls) = run(Some(1), |c| (1, Some(if c == Some(3) { 1 } else { c.unwrap() + 1 }), None)).await;
        assert_eq!((code(&out).as_deref(), calls), (Some("pagination_loop"), 3));
    }

    #[tokio::test]
    async fn an_endless_list_stops_at_the_page_cap() {
        let (out, calls) = run(Some(1), |c| (0, c.map(|p| p + 1), None)).await;
        assert_eq!((code(&out).as_deref(), calls), (Some("too_many_pages"), MAX_PAGES));
    }

    #[tokio::test]
    async fn a_flood_of_items_stops_at_the_item_cap() {
        let (out, calls) = run(Some(1), |c| (MAX_ITEMS / 3, c.map(|p| p + 1), None)).await;
        assert_eq!((code(&out).as_deref(), calls), (Some("too_many_items"), 4));
    }
}
