//! One server as the engine sees it: client, URL, headers, protocol, model and request
//! options, and how each request's body is made (default body or template, LoRA choice).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

use crate::protocol::template::{BodyTemplate, TemplateError};
use crate::protocol::{self, BodyInput, Protocol};
use crate::scenario::{Backend, ConnectionMode, LoraDistribution, RequestOptions, Timeouts};
use crate::workload::{Prompt, RequestSpec};

/// Header that carries a request's routing key (bench_serving's generated-shared-prefix
/// `--gsp-send-routing-key`).
pub const ROUTING_KEY_HEADER: &str = "X-SMG-Routing-Key";

/// Stream of the LoRA-choice RNG.
const LORA_STREAM: u64 = 0x6c6f_7261_0000_0001;

/// Everything needed to send requests to one server.
pub struct Target {
    pub(crate) client: reqwest::Client,
    pub(crate) base_url: String,
    pub(crate) url: String,
    pub(crate) headers: HeaderMap,
    pub(crate) protocol: Box<dyn Protocol>,
    pub(crate) backend: Backend,
    pub(crate) model: String,
    pub(crate) options: RequestOptions,
    template: Option<BodyTemplate>,
    seed: u64,
}

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The serialized body.
    pub body: Bytes,
    /// The LoRA adapter chosen.
    pub lora: Option<String>,
}

impl Target {
    /// A target at `base_url` speaking `backend`'s protocol.
    pub fn new(
        client: reqwest::Client,
        base_url: &str,
        backend: Backend,
        model: String,
        options: RequestOptions,
    ) -> Result<Target> {
        let api = backend
            .api()
            .with_context(|| backend.unsupported().unwrap_or_default())?;
        let protocol = protocol::for_api(api);
        let base_url = base_url.trim_end_matches('/').to_owned();
        let url = format!("{base_url}{}", api.facts().path);
        let template = match &options.template {
            Some(src) => Some(BodyTemplate::compile("request.template", src)?),
            None => None,
        };
        let mut target = Target {
            client,
            base_url,
            url,
            headers: HeaderMap::new(),
            protocol,
            backend,
            model,
            options,
            template,
            seed: 0,
        };
        if backend.facts().env_auth {
            target.headers = env_auth()?;
        }
        Ok(target)
    }

    /// Add headers over the environment's `Authorization` (bench_serving's `--header`).
    pub fn with_headers(mut self, headers: &BTreeMap<String, String>) -> Result<Target> {
        for (k, v) in headers {
            let name = HeaderName::try_from(k.as_str())
                .map_err(|e| anyhow::anyhow!("invalid header name `{k}`: {e}"))?;
            let value = HeaderValue::try_from(v.as_str())
                .map_err(|e| anyhow::anyhow!("invalid value for header `{k}`: {e}"))?;
            self.headers.insert(name, value);
        }
        Ok(self)
    }

    /// Use a body template (`name` locates it in error messages); replaces the scenario's.
    pub fn with_template(mut self, name: &str, source: &str) -> Result<Target, TemplateError> {
        self.template = Some(BodyTemplate::compile(name, source)?);
        Ok(self)
    }

    /// Seed for LoRA choices and the templates' `seed`.
    pub fn with_seed(mut self, seed: u64) -> Target {
        self.seed = seed;
        self
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The model name sent in requests.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Use another model name.
    pub fn with_model(mut self, model: String) -> Target {
        self.model = model;
        self
    }

    /// The headers sent with every request (authorization and the target's own).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Whether responses are streamed.
    pub(crate) fn streaming(&self) -> bool {
        self.options.stream && self.protocol.streams()
    }

    /// LoRA adapter of each of `n` requests: uniform (seeded), round-robin, or skewed with
    /// weights `alpha^-i`.
    pub fn loras(&self, n: usize) -> Vec<Option<String>> {
        let Some(l) = &self.options.lora else {
            return vec![None; n];
        };
        let names = &l.names;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ LORA_STREAM);
        let weights: Vec<f64> = (0..names.len())
            .map(|i| l.zipf_alpha.powi(-(i as i32)))
            .collect();
        let total: f64 = weights.iter().sum();
        (0..n)
            .map(|i| {
                let k = match l.distribution {
                    LoraDistribution::Uniform => rng.random_range(0..names.len()),
                    LoraDistribution::Distinct => i % names.len(),
                    LoraDistribution::Skewed => {
                        let mut x = rng.random::<f64>() * total;
                        let mut k = names.len() - 1;
                        for (j, w) in weights.iter().enumerate() {
                            if x < *w {
                                k = j;
                                break;
                            }
                            x -= w;
                        }
                        k
                    }
                };
                Some(names[k].clone())
            })
            .collect()
    }

    /// The JSON body of request `index`: the template's rendering, else the backend's
    /// default body. `prompt` replaces the spec's (the history of a multi-turn
    /// conversation); `force_usage` asks for usage whatever the options say.
    pub fn body_value(
        &self,
        spec: &RequestSpec,
        prompt: &Prompt,
        lora: Option<&str>,
        index: usize,
        force_usage: bool,
    ) -> Result<Value, TemplateError> {
        let input = BodyInput {
            model: &self.model,
            prompt,
            images: &spec.images,
            output_len: spec.output_len,
            stream: self.streaming(),
            ignore_eos: self.options.ignore_eos,
            include_usage: self.options.include_usage || force_usage,
            lora,
            options: &self.options,
            row_extra: &spec.extra_body,
        };
        let default = self.protocol.body(&input);
        let Some(t) = &self.template else {
            return Ok(default);
        };
        let prompt_json = match prompt {
            Prompt::Text(s) => json!(s),
            Prompt::Ids(ids) => json!(ids),
            Prompt::Messages(m) => json!(m),
            Prompt::Turns(t) => json!(t.first()),
            Prompt::MessageTurns(t) => json!(t.first()),
        };
        let ctx = json!({
            "model": self.model,
            "prompt": prompt_json,
            "messages": protocol::chat_messages(prompt, &spec.images),
            "output_len": spec.output_len,
            "images": spec.images,
            "stream": input.stream,
            "ignore_eos": input.ignore_eos,
            "temperature": self.options.temperature,
            "top_p": self.options.top_p,
            "lora": lora,
            "extra": input.extra(),
            "index": index,
            "seed": self.seed,
            "default_body": default,
        });
        t.render(&ctx)
    }

    /// Bodies and LoRA choices of every request that is not a multi-turn conversation
    /// (those are built turn by turn); a template error stays with its request.
    pub fn prepare(&self, requests: &[RequestSpec]) -> Vec<Result<Prepared, TemplateError>> {
        self.loras(requests.len())
            .into_iter()
            .enumerate()
            .map(|(i, lora)| {
                let spec = &requests[i];
                if spec.prompt.is_conversation() {
                    return Ok(Prepared {
                        body: Bytes::new(),
                        lora,
                    });
                }
                Ok(Prepared {
                    body: self.body(spec, lora.as_deref(), i)?,
                    lora,
                })
            })
            .collect()
    }

    /// The body of request `index` (not a multi-turn conversation), as sent.
    pub fn body(
        &self,
        spec: &RequestSpec,
        lora: Option<&str>,
        index: usize,
    ) -> Result<Bytes, TemplateError> {
        let v = self.body_value(spec, &spec.prompt, lora, index, false)?;
        Ok(Bytes::from(v.to_string()))
    }

    /// Render the first request's body, so a broken template fails before anything is sent.
    pub fn check(&self, requests: &[RequestSpec]) -> Result<(), TemplateError> {
        if let Some(spec) = requests.first() {
            let prompt = match spec.prompt.turn(0) {
                Some(first) => Prompt::Messages(first),
                None => spec.prompt.clone(),
            };
            let lora = self.loras(1).pop().flatten();
            self.body_value(spec, &prompt, lora.as_deref(), 0, false)?;
        }
        Ok(())
    }
}

/// `Authorization` from the environment, as bench_serving: `OPENAI_API_KEY` as a bearer
/// token, else `API_KEY` verbatim.
fn env_auth() -> Result<HeaderMap> {
    let mut map = HeaderMap::new();
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let value = match (var("OPENAI_API_KEY"), var("API_KEY")) {
        (Some(k), _) => Some(format!("Bearer {k}")),
        (None, Some(k)) => Some(k),
        (None, None) => None,
    };
    if let Some(v) = value {
        let v = HeaderValue::try_from(v)
            .context("OPENAI_API_KEY / API_KEY is not a valid header value")?;
        map.insert(AUTHORIZATION, v);
    }
    Ok(map)
}

/// The one shared, pooled HTTP client.
pub fn client(timeouts: &Timeouts) -> Result<reqwest::Client> {
    client_with(timeouts, ConnectionMode::Pooled)
}

/// The HTTP client for these request options: pooled, or a new connection per request.
pub fn client_for(options: &RequestOptions) -> Result<reqwest::Client> {
    client_with(&options.timeouts, options.connection)
}

fn client_with(timeouts: &Timeouts, mode: ConnectionMode) -> Result<reqwest::Client> {
    let idle = match mode {
        ConnectionMode::Pooled => usize::MAX,
        ConnectionMode::PerRequest => 0,
    };
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(idle)
        .connector_layer(super::connect::CountConnects)
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs_f64(timeouts.connect_s))
        .build()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::LoraOptions;

    fn target(dist: LoraDistribution) -> Target {
        let options = RequestOptions {
            lora: Some(LoraOptions {
                names: vec!["a".into(), "b".into(), "c".into()],
                distribution: dist,
                zipf_alpha: 2.0,
            }),
            ..RequestOptions::default()
        };
        let client = client(&Timeouts::default()).unwrap();
        Target::new(
            client,
            "http://127.0.0.1:1/",
            Backend::Vllm,
            "m".into(),
            options,
        )
        .unwrap()
        .with_seed(7)
    }

    fn counts(l: &[Option<String>]) -> [usize; 3] {
        let mut c = [0; 3];
        for n in l.iter().flatten() {
            c[(n.as_bytes()[0] - b'a') as usize] += 1;
        }
        c
    }

    #[test]
    fn lora_choices_follow_the_distribution() {
        let distinct = target(LoraDistribution::Distinct).loras(6);
        let names: Vec<&str> = distinct.iter().map(|n| n.as_deref().unwrap()).collect();
        assert_eq!(names, ["a", "b", "c", "a", "b", "c"]);
        let u = counts(&target(LoraDistribution::Uniform).loras(3000));
        assert!(u.iter().all(|&c| (900..1100).contains(&c)), "{u:?}");
        // weights 1, 1/2, 1/4 → 4/7, 2/7, 1/7 of 3500
        let s = counts(&target(LoraDistribution::Skewed).loras(3500));
        assert!(
            (1850..2150).contains(&s[0]) && (880..1120).contains(&s[1]),
            "{s:?}"
        );
        assert_eq!(
            target(LoraDistribution::Uniform).loras(50),
            target(LoraDistribution::Uniform).loras(50)
        );
    }

    #[test]
    fn url_and_body_of_a_target() {
        let t = target(LoraDistribution::Distinct);
        assert_eq!(t.url, "http://127.0.0.1:1/v1/completions");
        let spec = RequestSpec::text("hi", 1, 4);
        let v = t
            .body_value(&spec, &spec.prompt, Some("b"), 0, false)
            .unwrap();
        assert_eq!(v["model"], "b");
        assert_eq!(v["stream_options"], json!({"include_usage": true}));
    }

    #[test]
    fn a_template_replaces_the_body() {
        let t = target(LoraDistribution::Distinct)
            .with_template(
                "targets[0].template",
                r#"{"q": {{ prompt | tojson }}, "n": {{ output_len }}, "i": {{ index }}, "m": {{ messages | tojson }}, "d": {{ default_body.max_tokens }}}"#,
            )
            .unwrap();
        let spec = RequestSpec::text("hi", 1, 4);
        let v = t.body_value(&spec, &spec.prompt, None, 3, false).unwrap();
        assert_eq!(
            v,
            json!({"q": "hi", "n": 4, "i": 3, "m": [{"role": "user", "content": "hi"}], "d": 4})
        );
    }
}
