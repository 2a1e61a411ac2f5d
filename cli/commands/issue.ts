import { DispatchError } from '../../src/errors.js';

export interface IssueEditOptions {
  lead?: string;
  drop?: string[];
  keep?: string[];
  order?: string;
  note?: string;
  noteFile?: string;
  reset?: boolean;
  direct?: boolean;
}

const notYet = (): never => {
  throw new DispatchError('E_INTERNAL', 'dispatch issue is not built yet');
};

export async function issueShowCommand(_week: string | undefined, _options: { json?: boolean }): Promise<void> {
  notYet();
}
export async function issueApproveCommand(_week: string): Promise<void> {
  notYet();
}
export async function issueHoldCommand(_week: string): Promise<void> {
  notYet();
}
export async function issueReleaseCommand(_week: string): Promise<void> {
  notYet();
}
export async function issueEditCommand(_week: string, _options: IssueEditOptions): Promise<void> {
  notYet();
}
export async function issueProofCommand(_week: string): Promise<void> {
  notYet();
}
