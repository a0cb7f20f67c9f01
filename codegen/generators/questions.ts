// Order-reply question policy: contracts/questions.yaml -> generated/questions.gen.ts. The reply-chain walker
// answers a broker question only through this table; an id missing from it is refused.
import type { Contracts } from "../contracts.ts";
import { type GeneratedFile, literal } from "../emit.ts";

export const QUESTIONS_OUTPUT = "generated/questions.gen.ts";

export function generateQuestions(contracts: Contracts): GeneratedFile[] {
  const questions = [...contracts.questions.questions].sort((a, b) => a.id.localeCompare(b.id));
  const content = `
export type QuestionPolicy = "confirm" | "refuse" | "require_approval";

export interface QuestionEntry {
  readonly policy: QuestionPolicy;
  readonly gist: string;
  readonly reason: string;
  /** For prompts answered with a choice (p12), the option the gateway picks. */
  readonly answer: string | null;
}

export const QUESTION_IDS = ${literal(questions.map((question) => question.id))} as const;
export type QuestionId = (typeof QUESTION_IDS)[number];

export const QUESTION_POLICIES: Record<QuestionId, QuestionEntry> = ${literal(
    Object.fromEntries(
      questions.map((question) => [
        question.id,
        {
          policy: question.policy,
          gist: question.gist,
          reason: question.reason,
          answer: question.answer ?? null,
        },
      ]),
    ),
  )};

/** Policy for a broker question id; unknown ids are refused, never guessed. */
export function questionPolicy(id: string): QuestionPolicy {
  return Object.hasOwn(QUESTION_POLICIES, id) ? QUESTION_POLICIES[id as QuestionId].policy : "refuse";
}
`;
  return [
    {
      path: QUESTIONS_OUTPUT,
      content,
      generator: "codegen/generators/questions.ts",
      sources: ["contracts/questions.yaml"],
    },
  ];
}
