// The build's output in the runner's log: each pipeline step (checkout, build, push, ...) is a
// collapsible group, tool output goes inside it, and pushes/holds are visible lines.
import * as core from '@actions/core';
import { describeEvent, type LogSink } from '../adapters/log-sink.js';

export interface ActionsLogSink extends LogSink {
  /** Closes the group left open by a step that failed. */
  finish(): void;
}

export function actionsLogSink(): ActionsLogSink {
  // The runner cannot nest groups; remember whether one is open so a step that fails midway
  // does not leave the next step's output inside it.
  let open = false;
  const close = () => {
    if (open) core.endGroup();
    open = false;
  };
  return {
    finish: close,
    line: (text) => core.info(text),
    event: (e) => {
      if (e.type === 'step-started') {
        close();
        core.startGroup(`${e.step}`);
        open = true;
      } else if (e.type === 'step-finished') {
        core.info(describeEvent(e));
        close();
      } else if (e.type === 'held') {
        core.notice(describeEvent(e));
      } else {
        core.info(describeEvent(e));
      }
    },
  };
}
