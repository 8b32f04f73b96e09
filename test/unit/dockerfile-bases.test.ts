import { describe, expect, it } from 'vitest';
import { dockerfileBases } from '../../src/core/dockerfile-bases.js';

// The base images a rebuild-on-base-change watches, read from Dockerfiles as people write them.

const rows: { name: string; dockerfile: string; buildArgs?: Record<string, string>; bases: string[]; problems?: RegExp[] }[] = [
  {
    name: 'an official image without a tag is docker.io/library/NAME:latest',
    dockerfile: 'FROM alpine\nRUN echo hi\n',
    bases: ['docker.io/library/alpine:latest'],
  },
  {
    name: 'FROM scratch has no base',
    dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\n',
    bases: [],
  },
  {
    name: 'multi-stage: each registry image once, stage names skipped',
    dockerfile: [
      'FROM golang:1.22 AS build',
      'RUN go build -o /app .',
      'FROM build AS test',
      'RUN go test ./...',
      'FROM gcr.io/distroless/static-debian12:nonroot',
      'COPY --from=build /app /app',
      'FROM golang:1.22 AS tools',
    ].join('\n'),
    bases: ['docker.io/library/golang:1.22', 'gcr.io/distroless/static-debian12:nonroot'],
  },
  {
    name: 'ARG defaults before the first FROM are substituted, in every form',
    dockerfile: [
      'ARG REGISTRY=127.0.0.1:5000',
      'ARG NODE_VERSION=20',
      'ARG VARIANT',
      'FROM ${REGISTRY}/base/img:${NODE_VERSION}-${VARIANT:-slim} AS deps',
      'FROM $REGISTRY/base/runtime:${NODE_VERSION}',
    ].join('\n'),
    bases: ['127.0.0.1:5000/base/img:20-slim', '127.0.0.1:5000/base/runtime:20'],
  },
  {
    name: '--build-arg values win over the defaults',
    dockerfile: 'ARG BASE=debian:12\nFROM ${BASE}\n',
    buildArgs: { BASE: 'ghcr.io/acme/base:2' },
    bases: ['ghcr.io/acme/base:2'],
  },
  {
    name: 'an ARG declared after the first FROM does not reach later FROM lines',
    dockerfile: 'FROM alpine:3.20\nARG TAG=9\nFROM busybox:${TAG}\n',
    bases: ['docker.io/library/alpine:3.20'],
    problems: [/^line 3: FROM busybox:\$\{TAG\}: /],
  },
  {
    name: '--platform flags, lowercase keywords and a digest',
    dockerfile: 'from --platform=$BUILDPLATFORM node@sha256:' + 'a'.repeat(64) + ' as build\n',
    bases: ['docker.io/library/node@sha256:' + 'a'.repeat(64)],
  },
  {
    name: 'continuations, comments inside them and a heredoc that mentions FROM',
    dockerfile: [
      '# syntax=docker/dockerfile:1',
      'FROM \\',
      '  # the runtime',
      '  python:3.12-slim \\',
      '  AS app',
      'RUN <<EOF',
      'FROM not-an-instruction',
      'EOF',
      'FROM app',
    ].join('\n'),
    bases: ['docker.io/library/python:3.12-slim'],
  },
  {
    name: 'the escape directive changes the continuation character',
    dockerfile: '# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022 `\n  AS win\n',
    bases: ['mcr.microsoft.com/windows/servercore:ltsc2022'],
  },
  {
    name: 'an ARG with no value leaves FROM empty: reported, not guessed',
    dockerfile: 'ARG BASE\nFROM ${BASE}\n',
    bases: [],
    problems: [/^line 2: FROM \$\{BASE\}: no image once the ARGs are substituted$/],
  },
];

describe('dockerfileBases', () => {
  it.each(rows)('$name', ({ dockerfile, buildArgs, bases, problems }) => {
    const result = dockerfileBases(dockerfile, buildArgs);
    expect(result.bases.map((b) => b.ref)).toEqual(bases);
    expect(result.problems).toHaveLength(problems?.length ?? 0);
    problems?.forEach((p, i) => expect(result.problems[i]).toMatch(p));
  });

  it('names the stage each base is first used in', () => {
    expect(dockerfileBases('FROM node:20 AS Deps\nFROM deps\nFROM nginx:1.27\n').bases).toEqual([
      { ref: 'docker.io/library/node:20', stage: 0, stageName: 'deps' },
      { ref: 'docker.io/library/nginx:1.27', stage: 2 },
    ]);
  });
});
