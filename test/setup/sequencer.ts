// Test file order: the Node-independent integration files first (each starts its own Kafka cluster, the longest
// files of the suite, so they overlap with everything else instead of ending the run), then Vitest's own order
// (longest first by the last run's durations; larger files first when there is none, as in a fresh clone).
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const first = (spec: TestSpecification) => (spec.project.name === 'node-independent' ? 0 : 1);
    return [...sorted].sort((a, b) => first(a) - first(b));
  }
}
