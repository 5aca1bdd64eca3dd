//! A server's tokenizer: `/tokenize` and `/detokenize` (vLLM, llama.cpp, SGLang), called
//! synchronously through the fetch runtime.

use super::TokenizerError;
use crate::fetch::Http;

/// `/tokenize` and `/detokenize` of a server. Requests carry both vLLM's and llama.cpp's
/// field names (`prompt`/`content`, `add_special_tokens`/`add_special`); responses are read
/// from `tokens` and from `prompt`, `content` or `text`.
pub(super) struct ServerTokenizer {
    http: Http,
    base: String,
    model: Option<String>,
}

impl ServerTokenizer {
    pub(super) fn new(
        base_url: &str,
        model: Option<&str>,
    ) -> Result<ServerTokenizer, TokenizerError> {
        let http = Http::new().map_err(|reason| TokenizerError::Server {
            url: base_url.into(),
            reason,
        })?;
        Ok(ServerTokenizer {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            model: model.map(str::to_owned),
        })
    }

    fn post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, TokenizerError> {
        let url = format!("{}{path}", self.base);
        let req = self.http.client.post(&url).json(&body);
        self.http
            .run(async move {
                let resp = req.send().await.map_err(|e| e.to_string())?;
                let status = resp.status();
                if !status.is_success() {
                    return Err(format!("HTTP {status}"));
                }
                resp.json::<serde_json::Value>()
                    .await
                    .map_err(|e| e.to_string())
            })
            .map_err(|reason| TokenizerError::Server { url, reason })
    }

    pub(super) fn encode(&self, text: &str, special: bool) -> Result<Vec<u32>, TokenizerError> {
        let mut body = serde_json::json!({
            "prompt": text, "content": text,
            "add_special_tokens": special, "add_special": special,
        });
        if let Some(m) = &self.model {
            body["model"] = m.clone().into();
        }
        let v = self.post("/tokenize", body)?;
        let tokens = v["tokens"]
            .as_array()
            .ok_or_else(|| TokenizerError::Server {
                url: format!("{}/tokenize", self.base),
                reason: format!("no `tokens` list in the response: {v}"),
            })?;
        Ok(tokens
            .iter()
            .filter_map(|t| t.as_u64().or_else(|| t["id"].as_u64()))
            .map(|t| t as u32)
            .collect())
    }

    pub(super) fn decode(&self, ids: &[u32]) -> Result<String, TokenizerError> {
        let mut body = serde_json::json!({ "tokens": ids });
        if let Some(m) = &self.model {
            body["model"] = m.clone().into();
        }
        let v = self.post("/detokenize", body)?;
        ["prompt", "content", "text"]
            .iter()
            .find_map(|k| v[k].as_str())
            .map(str::to_owned)
            .ok_or_else(|| TokenizerError::Server {
                url: format!("{}/detokenize", self.base),
                reason: format!("no `prompt`/`content`/`text` in the response: {v}"),
            })
    }
}
