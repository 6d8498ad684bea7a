//! The EC2 image catalog: DescribeImages limited to public, available images of well-known
//! owners ([`IMAGE_SOURCES`], data), then only the newest image of each (distribution, version,
//! architecture), so the wizard offers "Ubuntu 22.04 x86_64" once, not its 900 daily builds.
//! AMI ids are per region: each image lists the zones of the region it was found in.

use super::dom::Node;
use crate::model::Image;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// One family of images the wizard offers: the owner's account id and a DescribeImages name
/// pattern (`*` wildcards, as EC2's `name` filter takes them).
#[derive(Debug, Clone, Copy)]
pub struct ImageSource {
    pub owner: &'static str,
    pub distribution: &'static str,
    pub name: &'static str,
    /// The version when the name does not carry a usable one.
    pub version: Option<&'static str>,
}

const fn src(
    owner: &'static str,
    distribution: &'static str,
    name: &'static str,
    version: Option<&'static str>,
) -> ImageSource {
    ImageSource { owner, distribution, name, version }
}

/// Well-known owners (the accounts AWS documents for each distribution) and the names of their
/// general-purpose server images. moto ships images of Amazon, Canonical, Red Hat and SUSE
/// under these same owner ids.
pub static IMAGE_SOURCES: &[ImageSource] = &[
    src("137112412989", "Amazon Linux", "al2023-ami-2023*", Some("2023")),
    src("137112412989", "Amazon Linux", "amzn2-ami-hvm-*", Some("2")),
    src("099720109477", "Ubuntu", "ubuntu/images/hvm-ssd*/ubuntu-*-server-*", None),
    src("136693071363", "Debian", "debian-1*", None),
    src("309956199498", "Red Hat Enterprise Linux", "RHEL-*_HVM*", None),
    src("013907871322", "SUSE Linux Enterprise Server", "suse-sles-*-hvm-ssd-*", None),
    src("125523088429", "CentOS Stream", "CentOS Stream *", None),
    src("125523088429", "Fedora", "Fedora-Cloud-Base-*", None),
    src("792107900819", "Rocky Linux", "Rocky-*", None),
    src("764336703387", "AlmaLinux", "AlmaLinux OS *", None),
];

/// The DescribeImages parameters for every source at once (owners and name patterns are each
/// OR-ed by EC2; [`source_of`] sorts the answers back to their source).
pub(super) fn describe_params() -> Vec<(String, String)> {
    let mut owners: Vec<&str> = IMAGE_SOURCES.iter().map(|s| s.owner).collect();
    owners.sort_unstable();
    owners.dedup();
    let mut params = Vec::new();
    super::api::numbered(&mut params, "Owner", owners);
    let filters: [(&str, Vec<&str>); 3] = [
        ("name", IMAGE_SOURCES.iter().map(|s| s.name).collect()),
        ("state", vec!["available"]),
        ("is-public", vec!["true"]),
    ];
    for (i, (name, values)) in filters.iter().enumerate() {
        params.push((format!("Filter.{}.Name", i + 1), name.to_string()));
        for (j, v) in values.iter().enumerate() {
            params.push((format!("Filter.{}.Value.{}", i + 1, j + 1), v.to_string()));
        }
    }
    params
}

/// `*` and `?` wildcards, as EC2 filters use them.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

pub fn source_of(owner: &str, name: &str) -> Option<&'static ImageSource> {
    IMAGE_SOURCES.iter().find(|s| s.owner == owner && glob(s.name, name))
}

/// The version in an image name: the first token that starts with a digit, cut before any
/// dotted part that is a build date (6+ digits). `ubuntu-jammy-22.04-amd64-server-20240207.1`
/// → 22.04, `debian-12-amd64-20240201-1644` → 12, `AlmaLinux OS 9.3.20231117 x86_64` → 9.3.
pub fn version_of(name: &str) -> Option<String> {
    let last = name.rsplit('/').next().unwrap_or(name);
    let token = last.split(['-', '_', ' ']).find(|t| t.starts_with(|c: char| c.is_ascii_digit()))?;
    let parts: Vec<&str> = token
        .split('.')
        .take_while(|p| !p.is_empty() && p.len() < 6 && p.chars().all(|c| c.is_ascii_digit()))
        .collect();
    (!parts.is_empty()).then(|| parts.join("."))
}

/// Compares dotted versions numerically (10 > 9).
fn cmp_version(a: &str, b: &str) -> Ordering {
    let nums = |v: &str| v.split('.').map(|p| p.parse::<u64>().unwrap_or(0)).collect::<Vec<_>>();
    nums(a).cmp(&nums(b))
}

/// The login user of an image, as each distribution documents it for EC2: first by the
/// well-known owner and name ([`IMAGE_SOURCES`]), then by the name alone (marketplace and
/// community copies keep the distribution's name). `None` = unknown (the caller's default).
pub fn login_user(owner: Option<&str>, name: &str) -> Option<&'static str> {
    if let Some(s) = owner.and_then(|o| source_of(o, name)) {
        return Some(user_of_distribution(s.distribution));
    }
    let n = name.to_ascii_lowercase();
    // Most specific first: "fedora-coreos" is not "fedora", "centos-stream" not generic.
    const BY_NAME: &[(&str, &str)] = &[
        ("fedora-coreos", "core"),
        ("flatcar", "core"),
        ("ubuntu", "ubuntu"),
        ("debian", "admin"),
        ("amzn", "ec2-user"),
        ("al2023", "ec2-user"),
        ("amazon", "ec2-user"),
        ("fedora", "fedora"),
        ("centos", "centos"),
        ("rocky", "rocky"),
        ("almalinux", "ec2-user"),
        ("rhel", "ec2-user"),
        ("suse", "ec2-user"),
        ("bitnami", "bitnami"),
    ];
    BY_NAME.iter().find(|(pat, _)| n.contains(pat)).map(|(_, user)| *user)
}

/// The documented default user of each distribution in [`IMAGE_SOURCES`].
fn user_of_distribution(distribution: &str) -> &'static str {
    match distribution {
        "Ubuntu" => "ubuntu",
        "Debian" => "admin",
        "Fedora" => "fedora",
        "CentOS Stream" => "centos",
        "Rocky Linux" => "rocky",
        // Amazon Linux, RHEL, SUSE, AlmaLinux.
        _ => "ec2-user",
    }
}

/// DescribeImages → `(image id, login user)` for the images whose user is known.
pub(crate) fn login_users_of(root: &Node) -> Vec<(String, String)> {
    root.items("imagesSet")
        .filter_map(|i| {
            let user = login_user(i.text_at("imageOwnerId"), i.text_at("name")?)?;
            Some((i.text_at("imageId")?.to_string(), user.to_string()))
        })
        .collect()
}

/// DescribeImages → images of the known sources (others are dropped) and the next token.
/// `zones` become each image's locations. Not yet reduced to the newest per family.
pub(crate) fn images_of(root: &Node, zones: &[String]) -> (Vec<(Image, String)>, Option<String>) {
    let images = root
        .items("imagesSet")
        .filter_map(|i| {
            let id = i.text_at("imageId")?;
            let name = i.text_at("name")?;
            let source = source_of(i.text_at("imageOwnerId")?, name)?;
            let image = Image {
                id: id.to_string(),
                name: name.to_string(),
                distribution: Some(source.distribution.to_string()),
                version: source.version.map(str::to_string).or_else(|| version_of(name)),
                arch: i.text_at("architecture").map(str::to_string),
                locations: zones.to_vec(),
            };
            Some((image, i.text_at("creationDate").unwrap_or_default().to_string()))
        })
        .collect();
    (images, root.text_at("nextToken").map(str::to_string))
}

/// Keeps the newest image (by creation date, then name, which embeds the build date) of each
/// distribution, version and architecture, sorted for the wizard: distribution, newest version
/// first, architecture.
pub fn current(images: Vec<(Image, String)>) -> Vec<Image> {
    let mut newest: BTreeMap<(String, String, String), (Image, String)> = BTreeMap::new();
    for (image, created) in images {
        let key = (
            image.distribution.clone().unwrap_or_default(),
            image.version.clone().unwrap_or_else(|| image.name.clone()),
            image.arch.clone().unwrap_or_default(),
        );
        let newer =
            newest.get(&key).is_none_or(|(old, old_created)| (&created, &image.name) > (old_created, &old.name));
        if newer {
            newest.insert(key, (image, created));
        }
    }
    let mut out: Vec<Image> = newest.into_values().map(|(i, _)| i).collect();
    out.sort_by(|a, b| {
        a.distribution
            .cmp(&b.distribution)
            .then_with(|| cmp_version(b.version.as_deref().unwrap_or(""), a.version.as_deref().unwrap_or("")))
            .then_with(|| a.arch.cmp(&b.arch))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec2_login_users_follow_the_image() {
        let ubuntu = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20240423";
        assert_eq!(login_user(Some("099720109477"), ubuntu), Some("ubuntu"));
        assert_eq!(login_user(Some("136693071363"), "debian-12-amd64-20240201-1644"), Some("admin"));
        assert_eq!(login_user(Some("137112412989"), "al2023-ami-2023.4.20240401.1-kernel-6.1-x86_64"), Some("ec2-user"));
        assert_eq!(login_user(Some("309956199498"), "RHEL-9.3.0_HVM-20231101-x86_64-5-Hourly2-GP3"), Some("ec2-user"));
        assert_eq!(login_user(Some("125523088429"), "Fedora-Cloud-Base-39-1.5.x86_64-hvm-us-east-1-gp3-0"), Some("fedora"));
        assert_eq!(login_user(Some("125523088429"), "CentOS Stream 9 x86_64 20240101"), Some("centos"));
        assert_eq!(login_user(Some("792107900819"), "Rocky-9-EC2-Base-9.3-20231113.0.x86_64"), Some("rocky"));
        // Other owners: by name.
        assert_eq!(login_user(Some("679593333241"), "ubuntu-22.04-marketplace-copy"), Some("ubuntu"));
        assert_eq!(login_user(None, "fedora-coreos-39.20240112.3.0-x86_64"), Some("core"));
        assert_eq!(login_user(None, "amzn2-ami-kernel-5.10-hvm-2.0.20240131.0-x86_64-gp2"), Some("ec2-user"));
        assert_eq!(login_user(Some("801119661308"), "Windows_Server-2022-English-Full-Base"), None);
    }

    #[test]
    fn ec2_image_sources_match_their_names() {
        assert!(glob(
            "ubuntu/images/hvm-ssd*/ubuntu-*-server-*",
            "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20240423"
        ));
        assert!(!glob(
            "ubuntu/images/hvm-ssd*/ubuntu-*-server-*",
            "ubuntu-minimal/images/hvm-ssd/ubuntu-jammy-22.04-amd64-minimal-20240207"
        ));
        assert!(glob("al2023-ami-2023*", "al2023-ami-2023.11.20260427.1-kernel-6.1-x86_64"));
        assert!(!glob("al2023-ami-2023*", "al2023-ami-minimal-2023.11.20260427.1-kernel-6.1-x86_64"));
        assert!(glob("a?c", "abc") && !glob("a?c", "ac"));
        assert_eq!(
            source_of("099720109477", "ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-20170721")
                .unwrap()
                .distribution,
            "Ubuntu"
        );
        assert!(source_of("801119661308", "Windows_Server-2016-English-Full-Base-2017.10.13").is_none());
        assert!(source_of("099720109477", "Deep Learning AMI").is_none());
    }

    #[test]
    fn ec2_versions_come_from_names() {
        for (name, v) in [
            ("ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240207.1", Some("22.04")),
            ("debian-12-amd64-20240201-1644", Some("12")),
            ("RHEL-9.3.0_HVM-20231101-x86_64-5-Hourly2-GP3", Some("9.3.0")),
            ("suse-sles-15-sp5-v20231101-hvm-ssd-x86_64", Some("15")),
            ("AlmaLinux OS 9.3.20231117 x86_64", Some("9.3")),
            ("Rocky-9-EC2-Base-9.3-20231113.0.x86_64", Some("9")),
            ("no version here", None),
        ] {
            assert_eq!(version_of(name).as_deref(), v, "{name}");
        }
        assert_eq!(cmp_version("10", "9"), Ordering::Greater);
    }

    #[test]
    fn ec2_only_the_newest_image_of_a_family_is_kept() {
        let img = |id: &str, name: &str, arch: &str| Image {
            id: id.into(),
            name: name.into(),
            distribution: Some("Amazon Linux".into()),
            version: Some("2".into()),
            arch: Some(arch.into()),
            locations: vec![],
        };
        let kept = current(vec![
            (img("ami-old", "amzn2-ami-hvm-2.0.20180810-x86_64-gp2", "x86_64"), "2018-08-10T00:00:00.000Z".into()),
            (img("ami-new", "amzn2-ami-hvm-2.0.20260427.1-x86_64-gp2", "x86_64"), "2026-04-27T00:00:00.000Z".into()),
            (img("ami-arm", "amzn2-ami-hvm-2.0.20260427.1-arm64-gp2", "arm64"), "2026-04-27T00:00:00.000Z".into()),
        ]);
        let ids: Vec<_> = kept.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["ami-arm", "ami-new"]);
    }
}
