//! How one structured call looks on the wire, for each way an endpoint takes a schema.
//!
//! OpenAI-compatible servers agree on chat completions but not on structured outputs:
//! OpenAI, vLLM, llama.cpp's `llama-server` and Ollama take `response_format:
//! {"type": "json_schema", ...}`; llama-cpp-python's server refuses that and takes
//! `{"type": "json_object", "schema": ...}`; some servers only constrain a forced tool call.
//! The engine builds its request once, in the typed form, and this module adds the variant's
//! fields and reads the answer back from where the variant puts it.

use async_openai::types::chat::{
    ChatCompletionMessageToolCalls, ChatCompletionRequestMessage, ChatCompletionResponseMessage,
    CreateChatCompletionRequest,
};
use serde::Deserialize;
use serde_json::{json, Value};

/// How the endpoint is asked for an answer that matches a JSON schema
/// (`llm.structured_output`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructuredOutput {
    /// `response_format: {"type": "json_schema", "json_schema": {name, schema, strict}}`.
    #[default]
    JsonSchema,
    /// `response_format: {"type": "json_object", "schema": ...}`, with the schema also
    /// spelled out in the system prompt (servers that ignore `schema` still answer JSON).
    JsonObject,
    /// One function whose parameters are the schema, and `tool_choice` forcing it; the
    /// answer is the call's arguments.
    Tools,
}

impl StructuredOutput {
    /// The system prompt for this variant: `json_object` carries the schema in words too.
    pub(crate) fn system_prompt(self, system: &str, schema: &Value) -> String {
        match self {
            Self::JsonObject => format!(
                "{system}\n\nAnswer with one JSON object, and nothing else, that matches this JSON schema:\n{schema}"
            ),
            Self::JsonSchema | Self::Tools => system.to_owned(),
        }
    }
}

/// What one step's request carries besides the conversation.
pub(crate) struct Constraint<'a> {
    /// The step's name: the schema's name, and the function's in `tools`.
    pub name: &'a str,
    pub schema: &'a Value,
    pub variant: StructuredOutput,
    /// Most tokens the answer may take. Sent as `max_tokens`, the field every
    /// OpenAI-compatible server reads (OpenAI's o-series alone wants
    /// `max_completion_tokens`).
    pub max_tokens: u32,
}

/// The request body: the typed request, plus the variant's schema fields and the token
/// limit.
pub(crate) fn request_body(
    model: &str,
    messages: &[ChatCompletionRequestMessage],
    constraint: &Constraint<'_>,
) -> Result<Value, serde_json::Error> {
    let request = CreateChatCompletionRequest {
        model: model.to_owned(),
        messages: messages.to_vec(),
        temperature: Some(0.0),
        ..Default::default()
    };
    let mut body = serde_json::to_value(request)?;
    let Constraint {
        name,
        schema,
        variant,
        max_tokens,
    } = constraint;
    let fields = match variant {
        StructuredOutput::JsonSchema => json!({
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": true}
            }
        }),
        // The schema's title names the step, as json_schema's `name` does.
        StructuredOutput::JsonObject => {
            let mut schema = (*schema).clone();
            if let Some(fields) = schema.as_object_mut() {
                fields.insert("title".to_owned(), json!(name));
            }
            json!({"response_format": {"type": "json_object", "schema": schema}})
        }
        StructuredOutput::Tools => json!({
            "tools": [{
                "type": "function",
                "function": {
                    "name": name,
                    "description": "Record the answer.",
                    "parameters": schema,
                    "strict": true
                }
            }],
            "tool_choice": {"type": "function", "function": {"name": name}}
        }),
    };
    if let (Some(body), Value::Object(fields)) = (body.as_object_mut(), fields) {
        body.extend(fields);
        body.insert("max_tokens".to_owned(), json!(max_tokens));
    }
    Ok(body)
}

/// What a completion's message holds for the step.
#[derive(Debug, PartialEq)]
pub(crate) enum Answer {
    /// The JSON text (content, or the forced call's arguments).
    Text(String),
    /// The model declined (OpenAI's `refusal`).
    Refused(String),
    /// Nothing usable.
    Empty,
}

/// Reads the answer where the variant puts it. A `tools` server that answers in plain
/// content instead of a call is read from the content, as some do.
pub(crate) fn answer(message: ChatCompletionResponseMessage, variant: StructuredOutput) -> Answer {
    let arguments = match variant {
        StructuredOutput::Tools => {
            message
                .tool_calls
                .unwrap_or_default()
                .into_iter()
                .find_map(|call| match call {
                    ChatCompletionMessageToolCalls::Function(call) => Some(call.function.arguments),
                    ChatCompletionMessageToolCalls::Custom(_) => None,
                })
        }
        StructuredOutput::JsonSchema | StructuredOutput::JsonObject => None,
    };
    let text = arguments.or(message.content);
    match text {
        Some(text) if !text.trim().is_empty() => Answer::Text(text),
        _ => match message.refusal {
            Some(refusal) => Answer::Refused(refusal),
            None => Answer::Empty,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(value: Value) -> ChatCompletionResponseMessage {
        serde_json::from_value(value).expect("a response message")
    }

    #[test]
    fn each_variant_puts_the_schema_where_its_servers_read_it() {
        let schema = json!({"type": "object", "properties": {"x": {"type": "string"}}});
        let body = |variant| {
            request_body(
                "m",
                &[],
                &Constraint {
                    name: "classification",
                    schema: &schema,
                    variant,
                    max_tokens: 64,
                },
            )
            .unwrap()
        };
        let strict = body(StructuredOutput::JsonSchema);
        assert_eq!(strict["response_format"]["json_schema"]["schema"], schema);
        assert_eq!(
            strict["response_format"]["json_schema"]["name"],
            "classification"
        );
        let object = body(StructuredOutput::JsonObject);
        assert_eq!(object["response_format"]["type"], "json_object");
        assert_eq!(
            object["response_format"]["schema"]["properties"],
            schema["properties"]
        );
        assert_eq!(
            object["response_format"]["schema"]["title"],
            "classification"
        );
        let tools = body(StructuredOutput::Tools);
        assert!(tools.get("response_format").is_none());
        assert_eq!(tools["tools"][0]["function"]["parameters"], schema);
        assert_eq!(
            tools["tool_choice"]["function"]["name"],
            tools["tools"][0]["function"]["name"]
        );
        for body in [strict, object, tools] {
            assert_eq!(body["max_tokens"], 64);
            assert_eq!(body["temperature"], 0.0);
        }
    }

    #[test]
    fn a_forced_call_is_read_from_its_arguments_and_plain_content_is_still_accepted() {
        let call = message(json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "classification", "arguments": "{\"x\":\"1\"}"}}
        ]}));
        assert_eq!(
            answer(call, StructuredOutput::Tools),
            Answer::Text("{\"x\":\"1\"}".into())
        );
        let content = message(json!({"role": "assistant", "content": "{\"x\":\"2\"}"}));
        assert_eq!(
            answer(content, StructuredOutput::Tools),
            Answer::Text("{\"x\":\"2\"}".into())
        );
        let refusal = message(json!({"role": "assistant", "content": " ", "refusal": "no"}));
        assert_eq!(
            answer(refusal, StructuredOutput::JsonSchema),
            Answer::Refused("no".into())
        );
        let empty = message(json!({"role": "assistant", "content": null}));
        assert_eq!(answer(empty, StructuredOutput::JsonObject), Answer::Empty);
    }

    #[test]
    fn only_json_object_spells_the_schema_out_in_the_prompt() {
        let schema = json!({"required": ["topic"]});
        assert!(StructuredOutput::JsonObject
            .system_prompt("Label it.", &schema)
            .contains("\"required\":[\"topic\"]"));
        assert_eq!(
            StructuredOutput::JsonSchema.system_prompt("Label it.", &schema),
            "Label it."
        );
    }
}
