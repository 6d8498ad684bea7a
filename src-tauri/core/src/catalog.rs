//! The catalog cache: each cloud's locations, sizes and images, kept in SQLite so every wizard
//! step loads at once. A cached list is used while younger than the TTL (24 h by default,
//! [`Skydeck::with_catalog_ttl`]); `refresh` fetches anew. `fetched_at` travels with the data
//! so the UI can show its age beside a refresh button. Filters keep only the choices that go
//! together (sizes offered in a location, images for a location and architecture).

use crate::bounds::guarded;
use crate::error::{Error, Result};
use crate::model::{Image, Location, Size};
use crate::providers;
use crate::service::Skydeck;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CatalogKind {
    Locations,
    Sizes,
    Images,
}

impl CatalogKind {
    pub const ALL: [CatalogKind; 3] = [CatalogKind::Locations, CatalogKind::Sizes, CatalogKind::Images];

    pub fn as_str(self) -> &'static str {
        match self {
            CatalogKind::Locations => "locations",
            CatalogKind::Sizes => "sizes",
            CatalogKind::Images => "images",
        }
    }

    pub fn parse(s: &str) -> Result<CatalogKind> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Error::invalid("kind", format!("unknown catalog '{s}'; use locations, sizes or images")))
    }
}

/// The items of one catalog; serialized as a plain list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CatalogItems {
    Locations(Vec<Location>),
    Sizes(Vec<Size>),
    Images(Vec<Image>),
}

/// One catalog of one cloud, as `Skydeck::catalog` returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Catalog {
    pub cloud_id: String,
    pub kind: CatalogKind,
    /// RFC 3339: when these items were fetched from the provider.
    pub fetched_at: String,
    /// True when served from the cache without contacting the provider.
    pub from_cache: bool,
    /// True when the cached copy is older than the TTL but the provider could not be reached.
    pub stale: bool,
    pub items: CatalogItems,
}

impl Catalog {
    pub fn locations(&self) -> &[Location] {
        match &self.items {
            CatalogItems::Locations(v) => v,
            _ => &[],
        }
    }
    pub fn sizes(&self) -> &[Size] {
        match &self.items {
            CatalogItems::Sizes(v) => v,
            _ => &[],
        }
    }
    pub fn images(&self) -> &[Image] {
        match &self.items {
            CatalogItems::Images(v) => v,
            _ => &[],
        }
    }
    pub fn len(&self) -> usize {
        match &self.items {
            CatalogItems::Locations(v) => v.len(),
            CatalogItems::Sizes(v) => v.len(),
            CatalogItems::Images(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps only what fits `location` (sizes, images) and `arch` (images). Locations are
    /// kept as they are.
    pub fn filter(mut self, location: Option<&str>, arch: Option<&str>) -> Catalog {
        self.items = match self.items {
            CatalogItems::Sizes(v) => {
                CatalogItems::Sizes(v.into_iter().filter(|s| location.is_none_or(|l| size_fits(s, l))).collect())
            }
            CatalogItems::Images(v) => {
                CatalogItems::Images(v.into_iter().filter(|i| image_fits(i, location, arch)).collect())
            }
            other => other,
        };
        self
    }
}

/// A size fits a location when it lists it, or lists no locations (offered everywhere).
pub fn size_fits(size: &Size, location: &str) -> bool {
    size.locations.is_empty() || size.locations.iter().any(|l| l == location)
}

/// The common spellings of one architecture.
fn arch_family(a: &str) -> &str {
    match a.to_ascii_lowercase().as_str() {
        "x86_64" | "amd64" | "x64" => "x86_64",
        "arm64" | "aarch64" => "arm64",
        "i386" | "x86" | "i686" => "i386",
        _ => a,
    }
}

/// An image fits when it is offered in `location` (or everywhere) and built for `arch` (or its
/// architecture is unknown).
pub fn image_fits(image: &Image, location: Option<&str>, arch: Option<&str>) -> bool {
    let loc_ok = location.is_none_or(|l| image.locations.is_empty() || image.locations.iter().any(|x| x == l));
    let arch_ok = match (arch, image.arch.as_deref()) {
        (Some(want), Some(have)) => arch_family(want) == arch_family(have),
        _ => true,
    };
    loc_ok && arch_ok
}

/// Sizes offered in `location`.
pub fn sizes_in(sizes: &[Size], location: &str) -> Vec<Size> {
    sizes.iter().filter(|s| size_fits(s, location)).cloned().collect()
}

/// Images for `location` and `arch` (each optional).
pub fn images_for(images: &[Image], location: Option<&str>, arch: Option<&str>) -> Vec<Image> {
    images.iter().filter(|i| image_fits(i, location, arch)).cloned().collect()
}

fn decode(kind: CatalogKind, json: &str) -> Option<CatalogItems> {
    Some(match kind {
        CatalogKind::Locations => CatalogItems::Locations(serde_json::from_str(json).ok()?),
        CatalogKind::Sizes => CatalogItems::Sizes(serde_json::from_str(json).ok()?),
        CatalogKind::Images => CatalogItems::Images(serde_json::from_str(json).ok()?),
    })
}

fn encode(items: &CatalogItems) -> String {
    serde_json::to_string(items).expect("catalog items serialize")
}

fn age(fetched_at: &str) -> Option<Duration> {
    let t = chrono::DateTime::parse_from_rfc3339(fetched_at).ok()?;
    (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).to_std().ok().or(Some(Duration::ZERO))
}

impl Skydeck {
    /// How long a fetched catalog is used before it is fetched again.
    pub fn with_catalog_ttl(mut self, ttl: Duration) -> Self {
        self.catalog_ttl = ttl;
        self
    }

    pub fn catalog_ttl(&self) -> Duration {
        self.catalog_ttl
    }

    /// One catalog of a cloud (id or title): from the cache while fresh and `refresh` is false,
    /// else from the provider (then cached). When the provider cannot be reached and an
    /// expired copy exists, that copy is returned marked `stale` (unless `refresh` was asked).
    pub async fn catalog(&self, cloud: &str, kind: CatalogKind, refresh: bool) -> Result<Catalog> {
        let cloud = self.cloud(cloud).await?;
        let spec = providers::find(&cloud.provider)?;
        let supported = match kind {
            CatalogKind::Locations => spec.capabilities.list_locations,
            CatalogKind::Sizes => spec.capabilities.list_sizes,
            CatalogKind::Images => spec.capabilities.list_images,
        };
        if !supported {
            return Err(Error::NotSupported(format!("{} does not list {}", spec.title, kind.as_str())));
        }
        let id = cloud.id.clone();
        let cached = self
            .db(move |s| s.get_catalog(&id, kind.as_str()))
            .await?
            .and_then(|(json, at)| Some((decode(kind, &json)?, at)));
        let make = |items, fetched_at: String, from_cache, stale| Catalog {
            cloud_id: cloud.id.clone(),
            kind,
            fetched_at,
            from_cache,
            stale,
            items,
        };
        if let (false, Some((items, at))) = (refresh, &cached) {
            if age(at).is_some_and(|a| a < self.catalog_ttl) {
                return Ok(make(items.clone(), at.clone(), true, false));
            }
        }
        match self.fetch_catalog(&cloud, kind).await {
            Ok(items) => {
                let now = crate::now_rfc3339();
                let (id, json, at) = (cloud.id.clone(), encode(&items), now.clone());
                self.db(move |s| s.put_catalog(&id, kind.as_str(), &json, &at)).await?;
                Ok(make(items, now, false, false))
            }
            Err(e) => match cached {
                Some((items, at)) if !refresh && e.is_transient() => {
                    tracing::warn!(cloud = %cloud.title, "catalog refresh failed, serving the expired copy: {e}");
                    Ok(make(items, at, true, true))
                }
                _ => Err(e),
            },
        }
    }

    async fn fetch_catalog(&self, cloud: &crate::model::Cloud, kind: CatalogKind) -> Result<CatalogItems> {
        let what = format!("fetching its {}", kind.as_str());
        guarded(&cloud.title, &what, self.call_timeout, async {
            let driver = self.driver(cloud).await?;
            Ok::<_, Error>(match kind {
                CatalogKind::Locations => CatalogItems::Locations(driver.list_locations().await?),
                CatalogKind::Sizes => CatalogItems::Sizes(driver.list_sizes().await?),
                CatalogKind::Images => CatalogItems::Images(driver.list_images().await?),
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(id: &str, locs: &[&str]) -> Size {
        Size {
            id: id.into(),
            name: id.into(),
            vcpus: None,
            ram_mb: None,
            disk_gb: None,
            price_hourly: None,
            price_monthly: None,
            locations: locs.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn image(id: &str, locs: &[&str], arch: Option<&str>) -> Image {
        Image {
            id: id.into(),
            name: id.into(),
            distribution: None,
            version: None,
            arch: arch.map(str::to_string),
            locations: locs.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn only_choices_that_go_together_are_kept() {
        let sizes = [size("a", &["nyc3"]), size("b", &["ams3"]), size("c", &[])];
        let ids: Vec<_> = sizes_in(&sizes, "nyc3").into_iter().map(|s| s.id).collect();
        assert_eq!(ids, ["a", "c"]);
        let images =
            [image("u", &["nyc3"], Some("amd64")), image("v", &[], Some("arm64")), image("w", &["ams3"], None)];
        let ids: Vec<_> = images_for(&images, Some("nyc3"), Some("x86_64")).into_iter().map(|i| i.id).collect();
        assert_eq!(ids, ["u"]);
        let ids: Vec<_> = images_for(&images, None, Some("aarch64")).into_iter().map(|i| i.id).collect();
        assert_eq!(ids, ["v", "w"]);
    }

    #[test]
    fn items_serialize_as_a_plain_list_and_decode_back() {
        let items = CatalogItems::Sizes(vec![size("a", &["x"])]);
        let json = encode(&items);
        assert!(json.starts_with('['), "{json}");
        assert_eq!(decode(CatalogKind::Sizes, &json), Some(items));
        assert_eq!(CatalogKind::parse("images").unwrap(), CatalogKind::Images);
        assert_eq!(CatalogKind::parse("disks").unwrap_err().field(), Some("kind"));
    }
}
