import { Type } from 'typebox';
import { ModelId } from '../conversations/schemas.js';

export const SendMessageBody = Type.Object(
  {
    content: Type.String({ minLength: 1, maxLength: 200_000 }),
    model: Type.Optional(ModelId),
    parentId: Type.Optional(Type.String({ format: 'uuid' })),
  },
  { additionalProperties: false },
);

export const StreamDescription = `A text/event-stream. Events, each \`data\` one JSON object:
- \`user_message\`: the saved user message (a Message)
- \`assistant_message\`: \`{ messageId, generationId, model }\`
- \`delta\`: \`{ content }\`, text to append to the answer
- \`reasoning\`: \`{ content }\`, reasoning text to append
- \`usage\`: \`{ promptTokens, completionTokens, reasoningTokens, cost }\`
- \`done\`: \`{ messageId, finishReason, status }\`, status \`complete\` or \`stopped\`
- \`error\`: \`{ code, message }\`; the partial answer is kept with status \`error\``;

export const StopResponse = Type.Object({ stopped: Type.Boolean() });
