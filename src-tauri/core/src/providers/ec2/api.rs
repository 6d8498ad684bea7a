//! The EC2 Query API transport: form-encoded POSTs signed with SigV4 (the `aws-sigv4` crate),
//! sent through the shared retrying [`HttpClient`], answers parsed into a [`Node`] tree and
//! error answers mapped by [`super::xml::error_for`].

use super::dom::{self, Node};
use super::xml;
use crate::error::{Error, Result};
use crate::http::{HttpClient, Idempotency};
use crate::secrets::Sensitive;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use std::time::SystemTime;
use url::Url;

pub const API_VERSION: &str = "2016-11-15";
const SERVICE: &str = "ec2";
const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";
pub(super) const TITLE: &str = "Amazon EC2";

pub(super) struct Api {
    pub http: HttpClient,
    pub access_key_id: String,
    pub secret_access_key: Sensitive<String>,
    /// One URL for every region (a compatible API, a proxy, an emulator); `None` = AWS.
    pub endpoint: Option<Url>,
}

impl Api {
    /// Where `region`'s API lives.
    fn url(&self, region: &str) -> Result<Url> {
        if let Some(url) = &self.endpoint {
            return Ok(url.clone());
        }
        // China regions live under their own domain.
        let domain = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
        Url::parse(&format!("https://ec2.{region}.{domain}/"))
            .map_err(|e| Error::invalid("regions", format!("'{region}' is not a usable region name ({e})")))
    }

    /// Runs `action` in `region` with `params` and returns the parsed answer.
    pub async fn call(
        &self,
        region: &str,
        action: &str,
        params: &[(String, String)],
        idempotency: Idempotency,
    ) -> Result<Node> {
        self.call_mapped(region, action, params, idempotency, |_| None).await
    }

    /// Like [`Api::call`], but `map` may turn an EC2 error answer into a more specific error
    /// first (e.g. an unknown AMI into an input error on the wizard's image field).
    pub async fn call_mapped(
        &self,
        region: &str,
        action: &str,
        params: &[(String, String)],
        idempotency: Idempotency,
        map: impl Fn(&xml::AwsError) -> Option<Error>,
    ) -> Result<Node> {
        let url = self.url(region)?;
        let body = std::iter::once(("Action", action))
            .chain(std::iter::once(("Version", API_VERSION)))
            .chain(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)).replace("%20", "+"))
            .collect::<Vec<_>>()
            .join("&");

        let identity: Identity =
            Credentials::new(&self.access_key_id, self.secret_access_key.expose(), None, None, "skydeck").into();
        let signing_params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(SERVICE)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| Error::invalid("access_key_id", format!("cannot sign the request: {e}")))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            url.as_str(),
            std::iter::once(("content-type", CONTENT_TYPE)),
            SignableBody::Bytes(body.as_bytes()),
        )
        .and_then(|r| sign(r, &signing_params))
        .map_err(|e| Error::invalid("access_key_id", format!("cannot sign the request: {e}")))?;
        let (instructions, _) = signable.into_parts();

        let mut builder = self.http.client().post(url).header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE);
        for (name, value) in instructions.headers() {
            builder = builder.header(name, value);
        }
        let req = builder
            .body(body)
            .build()
            .map_err(|e| Error::Unavailable(format!("could not build the request to {TITLE}: {e}")))?;

        let reply = self.http.send(req, idempotency, TITLE).await?;
        let (status, text) = (reply.status, reply.body);
        if !status.is_success() {
            if let Some(e) = xml::parse_error(&text).as_ref().and_then(&map) {
                return Err(e);
            }
            return Err(xml::error_for(status.as_u16(), &text, action, region));
        }
        dom::parse(&text)
    }
}

/// Everything but RFC 3986's unreserved characters is percent-encoded and a space becomes `+`
/// (`*` as %2A, `/` as %2F), exactly as Python's `urlencode` writes a form. AWS reads any
/// form encoding; verifiers that re-encode the parsed parameters to check the signature
/// (moto, via botocore) then see exactly the bytes that were signed.
const AWS_QUERY: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn encode(s: &str) -> percent_encoding::PercentEncode<'_> {
    percent_encoding::utf8_percent_encode(s, AWS_QUERY)
}

/// Appends EC2's numbered list encoding: `Name.1=a&Name.2=b`.
pub(super) fn numbered<'a>(params: &mut Vec<(String, String)>, name: &str, values: impl IntoIterator<Item = &'a str>) {
    for (i, v) in values.into_iter().enumerate() {
        params.push((format!("{name}.{}", i + 1), v.to_string()));
    }
}
