import { builder } from '../../graphql/builder.ts';
import { ProjectRef } from '../projects/project.schema.ts';
import type { EnvironmentRow } from './environment.queries.ts';

const EnvironmentRef = builder.objectRef<EnvironmentRow>('Environment').implement({
  description: 'An environment a project reported sessions from, created on first sight.',
  fields: (t) => ({ name: t.exposeString('name') }),
});

builder.objectField(ProjectRef, 'environments', (t) =>
  t.field({
    type: [EnvironmentRef],
    resolve: (project, _args, ctx) => ctx.loaders.environmentsByProjectId.load(project.id),
  }),
);
