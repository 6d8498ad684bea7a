//! Credential fields from `--field key=value` and `SKYDECK_FIELD_<KEY>` environment variables
//! (so secrets can stay out of shell history).

use skydeck_core::provider::ProviderSpec;
use skydeck_core::secrets::Sensitive;
use skydeck_core::Error;
use std::collections::BTreeMap;

pub fn collect(spec: &ProviderSpec, args: &[String]) -> Result<BTreeMap<String, Sensitive<String>>, Error> {
    let mut out = BTreeMap::new();
    for f in spec.fields {
        let var = format!("SKYDECK_FIELD_{}", f.key.to_ascii_uppercase());
        if let Ok(v) = std::env::var(&var) {
            out.insert(f.key.to_string(), Sensitive::new(v));
        }
    }
    for arg in args {
        // The argument is not echoed back: it may be a secret typed without its key.
        let (k, v) = arg.split_once('=').ok_or_else(|| {
            Error::invalid("field", "--field takes key=value (one argument had no '='); secrets can also come from SKYDECK_FIELD_<KEY>")
        })?;
        out.insert(k.trim().to_string(), Sensitive::new(v.to_string()));
    }
    Ok(out)
}
