import { describe, expectTypeOf, it } from 'vitest';
import type {
  AuthState,
  Conversation,
  ConversationDetail,
  ConversationPage,
  Credentials,
  Generation,
  Health,
  Message,
  Model,
  SendMessageBody,
  StopResponse,
  User,
} from './types';

// Type-level checks (run by `npm run typecheck`): the shapes picked out of the generated
// schema exist (are not `never`) and have what the app relies on.
describe('API types from schema.d.ts', () => {
  it('resolve to the shapes the app uses', () => {
    expectTypeOf<AuthState>().toEqualTypeOf<{ needsSetup: boolean; registrationOpen: boolean }>();
    expectTypeOf<User['username']>().toEqualTypeOf<string>();
    expectTypeOf<Credentials>().toEqualTypeOf<{ username: string; password: string }>();
    expectTypeOf<Health['upstreamKeyConfigured']>().toEqualTypeOf<boolean>();
    expectTypeOf<Model['pricing']>().toEqualTypeOf<{ prompt: string; completion: string }>();
    expectTypeOf<Conversation['model']>().toEqualTypeOf<string | null>();
    expectTypeOf<ConversationPage['nextCursor']>().toEqualTypeOf<string | null>();
    expectTypeOf<ConversationDetail['messages']>().toEqualTypeOf<Message[]>();
    expectTypeOf<Message['status']>().toEqualTypeOf<
      'streaming' | 'complete' | 'stopped' | 'error' | 'interrupted'
    >();
    expectTypeOf<Message['parentId']>().toEqualTypeOf<string | null>();
    expectTypeOf<Generation['cost']>().toEqualTypeOf<number | null>();
    expectTypeOf<SendMessageBody>().toEqualTypeOf<{
      content: string;
      attachmentIds?: string[];
      model?: string;
      parentId?: string | null;
    }>();
    expectTypeOf<StopResponse>().toEqualTypeOf<{ stopped: boolean }>();
  });
});
